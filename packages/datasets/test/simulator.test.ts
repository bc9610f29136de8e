import { createHash } from 'node:crypto';
import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalSimulator,
  clusteringSimulator,
  type GeneratorParams,
  makeSimulator,
  rotatedMnistModel,
  rotatedSetsSimulator,
  type Simulator,
} from '../src/index.js';

/** sha256 (first 16 hex digits) of a tensor's or array's bytes: equal hashes = equal bits. */
function hash(t: tf.Tensor | Float64Array | Int32Array | Float32Array): string {
  const d = t instanceof tf.Tensor ? t.dataSync() : t;
  return createHash('sha256')
    .update(Buffer.from(d.buffer, d.byteOffset, d.byteLength))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The draws of every E1–E4 simulator before they moved to the `Simulator` contract (recorded from
 * the previous code, commit 3d703d4, with the same seeds). Values drawn on the JS side (θ, latents,
 * E2's points) are the same on every backend; values computed by tfjs ops (cos/sin) were recorded
 * on wasm and on cpu and are checked on those two. The E3/E4 images (`e3_*_x`, `e3obs_x`,
 * `e4_*`) were re-recorded when the generator and the rotation moved to the fused `denseLayer` and
 * `rotateBilinear` kernels of @gcvi/kernels (tested there against float64 references): those
 * kernels round differently from the tfjs ops they replace, and give the same bits on wasm and cpu.
 */
const GOLDEN = {
  e1_theta: 'd67b5127b472b9be',
  e1_test_theta: 'e55ec93495899973',
  e2_theta: 'e393353619809efa',
  e2_x: 'ccc52f240f47277c',
  e2n_Z: '375584ccc90edca4',
  e2n_S: '77e4a855b3722f5d',
  e2a_theta: '0d1272bc82009ff9',
  e2a_x: '2178ea396dfe404b',
  e2a_c: 'da41ee9c2ccce780',
  e2r_theta: '19808d1eaa410e97',
  e2r_x: '5296afdaeafef258',
  e3_0_theta: 3.2550130287929933,
  e3_0_z: 'ca3edd09301debc5',
  e3_1_theta: 3.037025759730415,
  e3_1_z: '9d7c7c6f0291710b',
  e3obs_z: '3e708fa0425b830e',
  e4_theta: 'ff5fd609c2d8bea8',
} as const;
const GOLDEN_BY_BACKEND: Record<string, Record<string, string | number>> = {
  wasm: {
    e1_x: 'eab5d29468989c70',
    e1_test_x: '9a34437718a00317',
    e1_test_nll: 0.6717133637193409,
    e3_0_x: '86043a95283174e5',
    e3_1_x: '596f3bbb5d3556c2',
    e3obs_x: '677d7332b819dd7d',
    e4_images: '9ff0cd9ab171635a',
    e4_x: 'e0016a82df0aa536',
  },
  cpu: {
    e1_x: '2d21b4f7dc5be95f',
    e1_test_x: '4b7bb391357bcd10',
    e1_test_nll: 0.6717133565850861,
    e3_0_x: '86043a95283174e5',
    e3_1_x: '596f3bbb5d3556c2',
    e3obs_x: '677d7332b819dd7d',
    e4_images: '9ff0cd9ab171635a',
    e4_x: 'e0016a82df0aa536',
  },
};

/** A small generator (latent 64, hidden 16) from a seeded stream, as the golden values used. */
function goldenGenerator(): GeneratorParams {
  const g = createRng('golden-generator');
  return {
    '0.weight': g.normalTensor([16, 64], 0, 0.3),
    '0.bias': g.normalTensor([16], 0, 0.1),
    '2.weight': g.normalTensor([16, 16], 0, 0.4),
    '2.bias': g.normalTensor([16], 0, 0.1),
    '4.weight': g.normalTensor([784, 16], 0, 0.6),
    '4.bias': g.normalTensor([784], 0, 0.3),
  };
}

describe('one simulator contract: E1–E4 draw what they drew before, bit for bit', () => {
  let backend = '';
  let byBackend: Record<string, string | number> | undefined;
  beforeAll(async () => {
    await initBackend();
    backend = tf.getBackend();
    byBackend = GOLDEN_BY_BACKEND[backend];
  });
  const onBackend = (key: string, value: string | number) => {
    if (byBackend) expect(value, `${key} on ${backend}`).toBe(byBackend[key]);
  };

  it('E1 canonicalSimulator.sample and testSet', () => {
    const sim: Simulator = canonicalSimulator();
    const { theta, x } = sim.sample(500, createRng(1));
    expect(hash(theta as tf.Tensor)).toBe(GOLDEN.e1_theta);
    onBackend('e1_x', hash(x as tf.Tensor));
    const t = canonicalSimulator().testSet(200, createRng(5));
    expect(hash(t.theta)).toBe(GOLDEN.e1_test_theta);
    onBackend('e1_test_x', hash(t.x));
    onBackend('e1_test_nll', t.exactNll);
    tf.dispose([theta as tf.Tensor, x as tf.Tensor, t.theta, t.x]);
  });

  it('E2 clusteringSimulator.sample, simulateNamed, simulateArrays, observedReplicate', () => {
    const sim = clusteringSimulator({ nPoints: 50 });
    const p = sim.sample(3, createRng(1));
    expect([hash(p.theta), hash(p.x)]).toEqual([GOLDEN.e2_theta, GOLDEN.e2_x]);
    const d = sim.simulateNamed(3, createRng(1));
    expect([hash(d.theta), hash(d.Z), hash(d.S)]).toEqual([GOLDEN.e2_theta, GOLDEN.e2n_Z, GOLDEN.e2n_S]);
    const a = sim.simulateArrays(2, createRng(2));
    expect([hash(a.theta), hash(a.x), hash(a.component)]).toEqual([
      GOLDEN.e2a_theta,
      GOLDEN.e2a_x,
      GOLDEN.e2a_c,
    ]);
    const r = sim.observedReplicate(100);
    expect([hash(r.theta), hash(r.x)]).toEqual([GOLDEN.e2r_theta, GOLDEN.e2r_x]);
    tf.dispose([p.theta, p.x, d.theta, d.x, d.Z, d.S, r.theta, r.x]);
  });

  it('E3 rotatedMnistModel.sample(n) = n successive simulate() sets, stacked', () => {
    const gen = goldenGenerator();
    const model = rotatedMnistModel({ generator: gen, nImages: 4 });
    const s = model.sample(2, createRng(3));
    expect(s.theta.shape).toEqual([2]);
    expect(s.z.shape).toEqual([2, 4, 64]);
    expect(s.x.shape).toEqual([2, 4, 28, 28]);
    const th = Array.from(s.theta.dataSync());
    expect(th[0]).toBe(Math.fround(GOLDEN.e3_0_theta));
    expect(th[1]).toBe(Math.fround(GOLDEN.e3_1_theta));
    const part = (t: tf.Tensor, j: number) => tf.tidy(() => tf.gather(t, j));
    for (const j of [0, 1] as const) {
      const z = part(s.z, j);
      const x = part(s.x, j);
      expect(hash(z)).toBe(GOLDEN[`e3_${j}_z`]);
      onBackend(`e3_${j}_x`, hash(x));
      tf.dispose([z, x]);
    }
    const obs = model.observedSet(createRng(4));
    const bigger = rotatedMnistModel({ generator: gen, nImages: 6 }).observedSet(createRng(4));
    expect(hash(bigger.z)).toBe(GOLDEN.e3obs_z);
    onBackend('e3obs_x', hash(bigger.x));
    tf.dispose([s.theta, s.z, s.x, obs.z, obs.x, bigger.z, bigger.x, ...Object.values(gen)]);
  });

  it('E4 rotatedSetsSimulator (known latents) draws what the E4 loop drew', () => {
    const gen = goldenGenerator();
    const model = rotatedMnistModel({ generator: gen, nImages: 5 });
    const z = createRng(7).normalTensor([5, 64]);
    const images = model.images(z);
    onBackend('e4_images', hash(images));
    const s = rotatedSetsSimulator(images, { noiseSd: 0.01 }).sample(2, createRng(8));
    expect(hash(s.theta.cast('float32'))).toBe(GOLDEN.e4_theta);
    onBackend('e4_x', hash(s.x));
    tf.dispose([z, images, s.theta, s.x, ...Object.values(gen)]);
  });

  it('runs on a backend with recorded values (or says so)', () => {
    if (!byBackend) console.warn(`simulator golden test: no backend-specific values for '${backend}'`);
    expect(['wasm', 'cpu']).toContain(backend);
  });
});

describe('makeSimulator', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('wraps a batched function and checks its output', () => {
    const sim = makeSimulator((n: number, rng: Rng) => ({
      theta: rng.normalTensor([n, 2]),
      x: rng.uniformTensor([n]),
    }));
    const a = sim.sample(4, createRng(1));
    const r = createRng(1);
    const t = r.normalTensor([4, 2]);
    expect(Array.from(a.theta.dataSync())).toEqual(Array.from(t.dataSync()));
    expect(a.x.shape).toEqual([4]);
    const bad = makeSimulator((n: number, rng: Rng) => ({ theta: rng.normalTensor([n + 1]) }));
    const before = tf.memory().numTensors;
    expect(() => bad.sample(3, createRng(1))).toThrow(
      /simulator\.sample\(\)\.theta: expected shape \[3, \.\.\.\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() => sim.sample(0, createRng(1))).toThrow(/n: must be a positive integer/);
    tf.dispose([a.theta, a.x, t]);
  });

  it('wraps an unbatched function: n calls, stacked, numbers as scalars', () => {
    const sim = makeSimulator(
      (rng: Rng) => {
        const theta = rng.normal();
        return { theta, x: tf.tensor1d([theta + rng.normal(), 1]) };
      },
      { batched: false },
    );
    const before = tf.memory().numTensors;
    const d = sim.sample(3, createRng(2));
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(d.theta.shape).toEqual([3]);
    expect(d.x.shape).toEqual([3, 2]);
    const r = createRng(2);
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      const th = r.normal();
      want.push(th);
      r.normal();
    }
    expect(Array.from(d.theta.dataSync())).toEqual(want.map(Math.fround));
    let calls = 0;
    const missing = makeSimulator(
      (_rng: Rng): Record<string, number> => (calls++ === 0 ? { a: 1 } : { b: 2 }),
      {
        batched: false,
      },
    );
    expect(() => missing.sample(2, createRng(1))).toThrow(/simulator draw 1\.a: missing/);
    tf.dispose([d.theta, d.x]);
  });

  it('rejects what is not a simulator function or output', () => {
    expect(() => makeSimulator(42 as never)).toThrow(/makeSimulator\(fn\): must be a function/);
    const notTensor = makeSimulator(((n: number) => ({ theta: n })) as never);
    expect(() => (notTensor as Simulator).sample(2, createRng(1))).toThrow(
      /sample\(\)\.theta: must be a tensor/,
    );
  });
});
