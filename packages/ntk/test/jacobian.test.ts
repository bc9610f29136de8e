import { dense, type Encoder, linearize, type NamedTensors } from '@gcvi/encoders';
import { createRng, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { empiricalNtk, jacobian, jacobianDense } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

/** Float64 reference forward pass of the NTK-parameterized dense net (independent of tfjs). */
function denseForward64(sizes: number[], flat: Float64Array, x: number[]): number[] {
  let h = x.slice();
  let off = 0;
  for (let l = 0; l < sizes.length - 1; l++) {
    const nIn = sizes[l] as number;
    const nOut = sizes[l + 1] as number;
    const s = l === 0 ? 1 : 1 / Math.sqrt(nIn);
    const z = new Array<number>(nOut).fill(0);
    for (let i = 0; i < nIn; i++)
      for (let j = 0; j < nOut; j++) z[j]! += s * h[i]! * flat[off + i * nOut + j]!;
    off += nIn * nOut;
    h = l < sizes.length - 2 ? z.map((v) => Math.max(0, v)) : z;
  }
  return h;
}

/** Central finite differences of `denseForward64` in float64: [out, P] for one x. */
function fdJacobian(sizes: number[], flat: Float64Array, x: number[], eps = 1e-6): number[][] {
  const out = sizes[sizes.length - 1] as number;
  const rows = Array.from({ length: out }, () => new Array<number>(flat.length).fill(0));
  for (let p = 0; p < flat.length; p++) {
    const plus = Float64Array.from(flat);
    const minus = Float64Array.from(flat);
    plus[p]! += eps;
    minus[p]! -= eps;
    const fp = denseForward64(sizes, plus, x);
    const fm = denseForward64(sizes, minus, x);
    for (let o = 0; o < out; o++) rows[o]![p] = (fp[o]! - fm[o]!) / (2 * eps);
  }
  return rows;
}

function flat64(params: NamedTensors, enc: Encoder): Float64Array {
  const parts = enc.paramSpecs.map((s) => Array.from((params[s.name] as tf.Tensor).dataSync()));
  return Float64Array.from(parts.flat());
}

/** Parameters with every layer ~ N(0, 1), so no Jacobian block vanishes. */
function randomParams(enc: Encoder, seed: number): NamedTensors {
  const rng = createRng(seed);
  const out: NamedTensors = {};
  for (const s of enc.paramSpecs) out[s.name] = rng.split(s.name).normalTensor([...s.shape]);
  return out;
}

const xs = [
  [0.6, -0.8],
  [-0.3, 0.95],
  [1.2, 0.4],
];

describe('jacobian (autodiff) and jacobianDense (closed form)', () => {
  const toDispose: tf.Tensor[] = [];
  afterAll(() => tf.dispose(toDispose));

  for (const hidden of [[7], [5, 4]]) {
    it(`agree with each other and with float64 finite differences (hidden ${JSON.stringify(hidden)})`, () => {
      const enc = dense({ inputSize: 2, hiddenSizes: hidden, outputSize: 2 });
      const params = randomParams(enc, 11 + hidden.length);
      const x = tf.tensor2d(xs);
      toDispose.push(x, ...Object.values(params));
      const before = tf.memory().numTensors;
      const ja = jacobian(enc, params, x);
      const jd = jacobianDense(enc, params, x);
      expect(tf.memory().numTensors - before).toBe(2); // only the two results
      const sizes = [2, ...hidden, 2];
      const P = flat64(params, enc).length;
      expect(ja.shape).toEqual([3, 2, P]);
      expect(jd.shape).toEqual([3, 2, P]);
      const a = ja.dataSync();
      const d = jd.dataSync();
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - d[k]!)).toBeLessThan(1e-5);
      const flat = flat64(params, enc);
      let maxErr = 0;
      for (let b = 0; b < xs.length; b++) {
        const fd = fdJacobian(sizes, flat, xs[b]!);
        for (let o = 0; o < 2; o++) {
          for (let p = 0; p < P; p++) {
            const ref = fd[o]![p]!;
            maxErr = Math.max(maxErr, Math.abs(d[(b * 2 + o) * P + p]! - ref) / (1 + Math.abs(ref)));
          }
        }
      }
      // float32 Jacobian vs float64 reference (no ReLU kink is within 1e-6 of these points).
      expect(maxErr).toBeLessThan(1e-5);
      tf.dispose([ja, jd]);
    });
  }

  it('at the E1 initialization (zero last layer) the first-layer block is exactly zero', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [16], outputSize: 2 });
    const params = enc.init(createRng(3));
    const x = tf.tensor2d(xs);
    const j = jacobianDense(enc, params, x);
    const data = j.dataSync();
    const P = 2 * 16 + 16 * 2;
    let firstMax = 0;
    let lastMax = 0;
    for (let r = 0; r < 6; r++) {
      for (let p = 0; p < 32; p++) firstMax = Math.max(firstMax, Math.abs(data[r * P + p]!));
      for (let p = 32; p < P; p++) lastMax = Math.max(lastMax, Math.abs(data[r * P + p]!));
    }
    expect(firstMax).toBe(0);
    expect(lastMax).toBeGreaterThan(0.1);
    tf.dispose([j, x, ...Object.values(params)]);
  });

  it('works for any encoder: a linearized twin has the constant Jacobian J(φ0) at any φ', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [6], outputSize: 2 });
    const params0 = randomParams(enc, 5);
    const lin = linearize(enc, params0);
    const moved = randomParams(enc, 6);
    const x = tf.tensor2d(xs);
    const jl = jacobian(lin, moved, x);
    const j0 = jacobianDense(enc, params0, x);
    const a = jl.dataSync();
    const b = j0.dataSync();
    for (let k = 0; k < a.length; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(1e-5);
    lin.dispose();
    tf.dispose([jl, j0, x, ...Object.values(params0), ...Object.values(moved)]);
  });

  it("a dense encoder with biases takes the autodiff path under 'auto' (float64 finite differences); 'dense' refuses it", () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [5], outputSize: 2, bias: true });
    const params = randomParams(enc, 8);
    const x = tf.tensor2d(xs);
    const j = jacobian(enc, params, x, { method: 'auto' });
    const p = enc.paramSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    expect(j.shape).toEqual([xs.length, 2, p]);
    // Float64 forward written here: pre_l = s_l (h W_l) + b_l, relu between layers; parameter order w0, b0, w1, b1.
    const flat = flat64(params, enc);
    const fwd = (v: Float64Array, xv: number[]): number[] => {
      const w0 = (i: number, k: number) => v[i * 5 + k]!;
      const b0 = (k: number) => v[10 + k]!;
      const w1 = (k: number, o: number) => v[15 + k * 2 + o]!;
      const b1 = (o: number) => v[25 + o]!;
      const h = [0, 1, 2, 3, 4].map((k) => Math.max(0, xv[0]! * w0(0, k) + xv[1]! * w0(1, k) + b0(k)));
      return [0, 1].map((o) => h.reduce((acc, hk, k) => acc + hk * w1(k, o), 0) / Math.sqrt(5) + b1(o));
    };
    expect(p).toBe(27);
    const jd = j.dataSync();
    for (let b = 0; b < xs.length; b++) {
      for (let q = 0; q < p; q++) {
        const plus = Float64Array.from(flat);
        const minus = Float64Array.from(flat);
        plus[q]! += 1e-6;
        minus[q]! -= 1e-6;
        const fp = fwd(plus, xs[b]!);
        const fm = fwd(minus, xs[b]!);
        for (let o = 0; o < 2; o++) {
          expect(Math.abs(jd[(b * 2 + o) * p + q]! - (fp[o]! - fm[o]!) / 2e-6)).toBeLessThan(1e-4);
        }
      }
    }
    expect(() => jacobianDense(enc, params, x)).toThrow(
      /encoder: jacobianDense covers dense encoders without biases/,
    );
    tf.dispose([j, x, ...Object.values(params)]);
  });

  it('handles a non-dense encoder with rank-3 inputs (tanh layer with bias) against finite differences', () => {
    // f(x) = tanh(vec(x) A + c), x [B, 2, 2], A [4, 3], c [3]: written here, not from @gcvi/encoders.
    const enc: Encoder = {
      spec: { kind: 'test-tanh' },
      paramSpecs: [
        { name: 'A', shape: [4, 3] },
        { name: 'c', shape: [3] },
      ],
      outputSize: 3,
      init: (rng) => ({ A: rng.normalTensor([4, 3]), c: rng.normalTensor([3]) }),
      apply: (p, x) =>
        tf.tidy(() =>
          tf.tanh(tf.add(tf.matMul(tf.reshape(x, [-1, 4]), p.A as tf.Tensor2D), p.c as tf.Tensor)),
        ),
    };
    const params = enc.init(createRng(21));
    const xv = [
      [
        [0.1, -0.4],
        [0.7, 0.2],
      ],
      [
        [-1, 0.3],
        [0.05, 0.9],
      ],
    ];
    const x = tf.tensor3d(xv);
    const j = jacobian(enc, params, x);
    expect(j.shape).toEqual([2, 3, 15]);
    const flat = flat64(params, enc);
    const f64 = (v: Float64Array, b: number) => {
      const xs2 = xv[b]!.flat();
      return [0, 1, 2].map((o) => {
        let z = v[12 + o]!;
        for (let i = 0; i < 4; i++) z += xs2[i]! * v[i * 3 + o]!;
        return Math.tanh(z);
      });
    };
    const jd = j.dataSync();
    for (let b = 0; b < 2; b++) {
      for (let p = 0; p < 15; p++) {
        const plus = Float64Array.from(flat);
        const minus = Float64Array.from(flat);
        plus[p]! += 1e-6;
        minus[p]! -= 1e-6;
        const fp = f64(plus, b);
        const fm = f64(minus, b);
        for (let o = 0; o < 3; o++) {
          const ref = (fp[o]! - fm[o]!) / 2e-6;
          expect(Math.abs(jd[(b * 3 + o) * 15 + p]! - ref)).toBeLessThan(1e-5);
        }
      }
    }
    expect(() => jacobianDense(enc, params, x)).toThrow(/encoder: jacobianDense needs a dense encoder/);
    tf.dispose([j, x, ...Object.values(params)]);
  });

  it('empiricalNtk is J(x) J(x′)ᵀ blockwise, [B1, B2, out, out], symmetric for x2 = x1', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [8], outputSize: 2 });
    const params = randomParams(enc, 9);
    const x1 = tf.tensor2d(xs);
    const x2 = tf.tensor2d([[0.1, 0.2]]);
    const k = empiricalNtk(enc, params, x1, x2);
    expect(k.shape).toEqual([3, 1, 2, 2]);
    const j1 = jacobianDense(enc, params, x1).arraySync() as number[][][];
    const j2 = jacobianDense(enc, params, x2).arraySync() as number[][][];
    const kv = k.arraySync() as number[][][][];
    for (let a = 0; a < 3; a++) {
      for (let o = 0; o < 2; o++) {
        for (let o2 = 0; o2 < 2; o2++) {
          let s = 0;
          for (let p = 0; p < j1[a]![o]!.length; p++) s += j1[a]![o]![p]! * j2[0]![o2]![p]!;
          expect(Math.abs(kv[a]![0]![o]![o2]! - s)).toBeLessThan(1e-4 * (1 + Math.abs(s)));
        }
      }
    }
    const kk = empiricalNtk(enc, params, x1).arraySync() as number[][][][];
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++)
        for (let o = 0; o < 2; o++)
          for (let o2 = 0; o2 < 2; o2++) expect(kk[a]![b]![o]![o2]).toBeCloseTo(kk[b]![a]![o2]![o]!, 4);
    tf.dispose([k, x1, x2, ...Object.values(params)]);
  });

  it('bad input gives one clear error naming the argument', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
    const params = randomParams(enc, 1);
    const x = tf.tensor2d([[1, 2, 3]]);
    expect(() => jacobianDense(enc, params, x)).toThrow(ShapeError);
    expect(() => jacobian(enc, { w0: params.w0 as tf.Tensor }, tf.zeros([1, 2]))).toThrow(/params\.w1/);
    const lin = linearize(enc, params);
    expect(() => jacobianDense(lin, params, tf.zeros([1, 2]))).toThrow(
      /encoder: jacobianDense needs a dense/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: testing a bad runtime value
    expect(() => jacobian(enc, params, tf.zeros([1, 2]), { method: 'vmap' as any })).toThrow(/method/);
    lin.dispose();
    tf.dispose([x, ...Object.values(params)]);
  });
});
