import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dense,
  ENCODER_KINDS,
  type Encoder,
  encoderFromSpec,
  generatorMlp,
  initVariables,
  isab,
  linearize,
  mab,
  mnistAngleEncoder,
  mnistLatentEncoder,
  pma,
  sab,
  setTransformer,
  toVariables,
} from '../src/index.js';

interface Case {
  readonly name: string;
  readonly build: () => Encoder;
  readonly input: number[];
  /** The linearized twin of this case's encoder (its φ0 from seed 'phi0'). */
  readonly linearizeWith?: 'auto' | 'closed-form' | 'double-vjp';
}

const CASES: Case[] = [
  { name: 'dense', build: () => dense({ inputSize: 3, hiddenSizes: [16, 8], outputSize: 2 }), input: [5, 3] },
  {
    name: 'dense with biases',
    build: () => dense({ inputSize: 2, hiddenSizes: [32], outputSize: 2, bias: true }),
    input: [7, 2],
  },
  {
    name: 'set-transformer',
    build: () => setTransformer({ inputSize: 1, width: 8, heads: 2, seeds: 3, outputSize: 2 }),
    input: [2, 9, 1],
  },
  {
    name: 'set-transformer (fusedAttention)',
    build: () =>
      setTransformer({ inputSize: 1, width: 8, heads: 2, seeds: 3, outputSize: 2, fusedAttention: true }),
    input: [2, 9, 1],
  },
  { name: 'mab', build: () => mab({ dimQ: 3, dimK: 3, dimV: 8, heads: 2, fused: true }), input: [2, 5, 3] },
  {
    name: 'sab',
    build: () => sab({ dimIn: 3, dimOut: 8, heads: 2, prefix: 's.', fused: true }),
    input: [2, 5, 3],
  },
  { name: 'isab', build: () => isab({ dimIn: 3, dimOut: 8, heads: 2, inducing: 4 }), input: [2, 5, 3] },
  { name: 'pma', build: () => pma({ dim: 8, heads: 2, seeds: 2, fused: true }), input: [2, 5, 8] },
  { name: 'mnist-angle', build: () => mnistAngleEncoder({ leakySlope: 0.2 }), input: [1, 2, 28, 28] },
  { name: 'mnist-latent', build: () => mnistLatentEncoder(), input: [2, 28, 28] },
  { name: 'generator-mlp', build: () => generatorMlp(), input: [2, 64] },
  {
    name: 'linearized dense (auto)',
    build: () => dense({ inputSize: 2, hiddenSizes: [16], outputSize: 2, bias: true }),
    input: [4, 2],
    linearizeWith: 'auto',
  },
  {
    name: 'linearized dense (double-vjp)',
    build: () => dense({ inputSize: 2, hiddenSizes: [16], outputSize: 2 }),
    input: [4, 2],
    linearizeWith: 'double-vjp',
  },
  {
    name: 'linearized set-transformer',
    build: () => setTransformer({ inputSize: 1, width: 8, heads: 2, seeds: 1, outputSize: 2 }),
    input: [2, 6, 1],
    linearizeWith: 'auto',
  },
];

/** Parameters away from init (the last dense layer starts at zero), so every weight matters. */
function randomParams(enc: Encoder, seed: string): Record<string, tf.Tensor> {
  const rng = createRng(seed);
  const out: Record<string, tf.Tensor> = {};
  for (const s of enc.paramSpecs) out[s.name] = tf.mul(rng.split(s.name).normalTensor([...s.shape]), 0.3);
  return out;
}

describe('spec → encoderFromSpec round trip', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('covers every encoder kind', () => {
    const kinds = new Set(CASES.map((c) => (c.linearizeWith ? 'linearized' : c.build().spec.kind)));
    expect([...kinds].sort()).toEqual([...ENCODER_KINDS].sort());
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: same spec through JSON, same outputs bit for bit',
    (_n, c) => {
      let enc = c.build();
      const owned: tf.Tensor[] = [];
      if (c.linearizeWith) {
        const phi0 = randomParams(enc, 'phi0');
        enc = linearize(enc, phi0, { method: c.linearizeWith });
        tf.dispose(Object.values(phi0));
      }
      const json = JSON.parse(JSON.stringify(enc.spec));
      const again = encoderFromSpec(json);
      expect(again.spec).toEqual(enc.spec);
      expect(again.paramSpecs).toEqual(enc.paramSpecs);
      const params = randomParams(enc, 'params');
      const x = tf.mul(createRng('x').normalTensor(c.input), 0.5);
      owned.push(x, ...Object.values(params));
      const a = enc.apply(params, x);
      const b = again.apply(params, x);
      expect(b.shape).toEqual(a.shape);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      expect(Array.from(a.dataSync()).every(Number.isFinite)).toBe(true);
      owned.push(a, b);
      tf.dispose(owned);
    },
  );

  it('a linearized spec keeps its method and φ0 bit for bit; options.params0 still overrides', () => {
    const base = dense({ inputSize: 2, hiddenSizes: [8], outputSize: 2 });
    const phi0 = randomParams(base, 'phi0');
    const lin = linearize(base, phi0, { method: 'double-vjp' });
    expect(lin.spec.method).toBe('double-vjp');
    const again = encoderFromSpec(JSON.parse(JSON.stringify(lin.spec))) as typeof lin;
    expect(again.spec.method).toBe('double-vjp');
    for (const s of base.paramSpecs) {
      expect(Array.from(again.params0[s.name]!.dataSync())).toEqual(Array.from(phi0[s.name]!.dataSync()));
    }
    const other = randomParams(base, 'other');
    const overridden = encoderFromSpec(lin.spec, { params0: other }) as typeof lin;
    expect(Array.from(overridden.params0.w0!.dataSync())).toEqual(Array.from(other.w0!.dataSync()));
    const { params0: _drop, ...withoutPhi0 } = lin.spec;
    expect(() => encoderFromSpec(withoutPhi0)).toThrow(/params0/);
    expect(() =>
      encoderFromSpec({
        ...lin.spec,
        params0: { ...lin.spec.params0, w0: { ...lin.spec.params0.w0!, base64: 'AAAA' } },
      }),
    ).toThrow(/spec\.params0\.w0\.base64/);
    lin.dispose();
    again.dispose();
    overridden.dispose();
    tf.dispose([...Object.values(phi0), ...Object.values(other)]);
  });
});

describe('toVariables / initVariables', () => {
  it('turn init tensors into trainable variables with the same names and values, without leaking', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [8], outputSize: 2, bias: true });
    const before = tf.memory().numTensors;
    const init = enc.init(createRng(1));
    const ref = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, Array.from(t.dataSync())]));
    const vars = toVariables(init, { disposeInputs: true });
    expect(Object.keys(vars)).toEqual(enc.paramSpecs.map((s) => s.name));
    for (const [k, v] of Object.entries(vars)) {
      expect(v).toBeInstanceOf(tf.Variable);
      expect(v.trainable).toBe(true);
      expect(Array.from(v.dataSync())).toEqual(ref[k]);
    }
    // a gradient step through the encoder moves them
    const x = tf.ones([3, 2]);
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.sum(tf.square(tf.sub(enc.apply(vars, x), 1))) as tf.Scalar);
    expect(Array.from(vars.b1!.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([x, ...Object.values(vars)]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const v2 = initVariables(enc, createRng(1), { trainable: false });
    expect(Array.from(v2.w0!.dataSync())).toEqual(ref.w0);
    expect(v2.w0!.trainable).toBe(false);
    tf.dispose(Object.values(v2));
    expect(tf.memory().numTensors).toBe(before);
  });
});
