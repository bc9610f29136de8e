import { VonMises } from '@gcvi/distributions';
import { dense, type NamedTensors } from '@gcvi/encoders';
import { adam, fit as fitEncoder, type Params } from '@gcvi/objectives';
import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { jacobianDense, ntkTracker } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

const W = 32;
const tracked = [
  [1, 0],
  [0, 1],
  [-0.6, -0.8],
  [0.28, -0.96],
];

function eig2x2(a: number, b: number, c: number): [number, number] {
  const mid = (a + c) / 2;
  const rad = Math.hypot((a - c) / 2, b);
  const l = [mid + rad, mid - rad].sort((u, v) => Math.abs(v) - Math.abs(u));
  return [l[0]!, l[1]!];
}

describe('ntkTracker', () => {
  it('records zeros at φ0 and, after only the last layer moves, the analytic Jacobian distance', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [W], outputSize: 2 });
    const params0 = enc.init(createRng(1)); // w1 = 0
    const x = tf.tensor2d(tracked);
    const tr = ntkTracker({ encoder: enc, params0, x, every: 10 });
    expect(tr.numTracked).toBe(4);
    const r0 = tr.record(0, params0);
    expect([r0.jacobianDistance, r0.ntkDistance, r0.eig1, r0.eig2]).toEqual([0, 0, 0, 0]);
    const delta = createRng(2).normalTensor([W, 2], 0, 0.3);
    const moved: NamedTensors = { w0: params0.w0 as tf.Tensor, w1: delta };
    const r1 = tr.record(10, moved);
    // Only the first-layer block changes: ∂f_o/∂w0[i, j] = x_i 1{x·w0_j > 0} w1[j, o] / √W, so
    // ‖J_t − J_0‖_F² = ‖x‖² Σ_j 1{x·w0_j > 0} Σ_o w1[j, o]² / W (float64 from the raw weights).
    const w0 = params0.w0!.arraySync() as number[][];
    const w1 = delta.arraySync() as number[][];
    let ref = 0;
    for (const xi of tracked) {
      let s = 0;
      for (let j = 0; j < W; j++) {
        if (xi[0]! * w0[0]![j]! + xi[1]! * w0[1]![j]! > 0) s += (w1[j]![0]! ** 2 + w1[j]![1]! ** 2) / W;
      }
      ref += Math.sqrt((xi[0]! ** 2 + xi[1]! ** 2) * s) / tracked.length;
    }
    expect(Math.abs(r1.jacobianDistance - ref)).toBeLessThan(1e-6 * ref);
    // K_t − K_0 is then the first-layer NTK part: (x·x)/W Σ_j 1{·} w1[j, o] w1[j, o'] — a PSD 2×2.
    let nd = 0;
    let e1 = 0;
    let e2 = 0;
    for (const xi of tracked) {
      const m = [0, 0, 0];
      for (let j = 0; j < W; j++) {
        if (xi[0]! * w0[0]![j]! + xi[1]! * w0[1]![j]! > 0) {
          const s = (xi[0]! ** 2 + xi[1]! ** 2) / W;
          m[0]! += s * w1[j]![0]! ** 2;
          m[1]! += s * w1[j]![0]! * w1[j]![1]!;
          m[2]! += s * w1[j]![1]! ** 2;
        }
      }
      nd += Math.sqrt(m[0]! ** 2 + 2 * m[1]! ** 2 + m[2]! ** 2) / tracked.length;
      const [l1, l2] = eig2x2(m[0]!, m[1]!, m[2]!);
      e1 += Math.abs(l1) / tracked.length;
      e2 += Math.abs(l2) / tracked.length;
    }
    expect(Math.abs(r1.ntkDistance - nd)).toBeLessThan(1e-5 * nd);
    expect(Math.abs(r1.eig1 - e1)).toBeLessThan(1e-5 * e1);
    expect(Math.abs(r1.eig2 - e2)).toBeLessThan(1e-5 * e1);
    expect(r1.eig1).toBeGreaterThanOrEqual(r1.eig2);
    expect(tr.rows.map((r) => r.step)).toEqual([0, 10]);
    tf.dispose([x, delta, ...Object.values(params0)]);
  });

  it('matches a direct float64 computation from jacobianDense when both layers move', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [W], outputSize: 2 });
    const rng = createRng(3);
    const params0: NamedTensors = { w0: rng.normalTensor([2, W]), w1: rng.normalTensor([W, 2]) };
    const params: NamedTensors = {
      w0: tf.add(params0.w0!, rng.normalTensor([2, W], 0, 0.2)),
      w1: tf.add(params0.w1!, rng.normalTensor([W, 2], 0, 0.2)),
    };
    const x = tf.tensor2d(tracked);
    const tr = ntkTracker({ encoder: enc, params0, x, every: 1, method: 'autodiff' });
    const row = tr.record(1, params);
    const j0 = jacobianDense(enc, params0, x).arraySync() as number[][][];
    const jt = jacobianDense(enc, params, x).arraySync() as number[][][];
    let jd = 0;
    let nd = 0;
    let e1 = 0;
    let e2 = 0;
    for (let i = 0; i < tracked.length; i++) {
      let s = 0;
      const k = [0, 0, 0];
      for (let p = 0; p < jt[i]![0]!.length; p++) {
        for (let o = 0; o < 2; o++) s += (jt[i]![o]![p]! - j0[i]![o]![p]!) ** 2;
        k[0]! += jt[i]![0]![p]! ** 2 - j0[i]![0]![p]! ** 2;
        k[1]! += jt[i]![0]![p]! * jt[i]![1]![p]! - j0[i]![0]![p]! * j0[i]![1]![p]!;
        k[2]! += jt[i]![1]![p]! ** 2 - j0[i]![1]![p]! ** 2;
      }
      jd += Math.sqrt(s) / tracked.length;
      nd += Math.sqrt(k[0]! ** 2 + 2 * k[1]! ** 2 + k[2]! ** 2) / tracked.length;
      const [l1, l2] = eig2x2(k[0]!, k[1]!, k[2]!);
      e1 += Math.abs(l1) / tracked.length;
      e2 += Math.abs(l2) / tracked.length;
    }
    // The tracker used the autodiff Jacobian, the reference the closed form: float32 agreement.
    expect(Math.abs(row.jacobianDistance - jd)).toBeLessThan(1e-4 * jd);
    expect(Math.abs(row.ntkDistance - nd)).toBeLessThan(1e-4 * nd);
    expect(Math.abs(row.eig1 - e1)).toBeLessThan(1e-4 * e1);
    expect(Math.abs(row.eig2 - e2)).toBeLessThan(1e-4 * e1 + 1e-6);
    tf.dispose([x, ...Object.values(params0), ...Object.values(params)]);
  });

  it('works as a fit callback: rows every k steps from step 0; holds no tensors', async () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [W], outputSize: 2 });
    const init = enc.init(createRng(4).split('init'));
    const params: Params = {
      w0: tf.variable(init.w0 as tf.Tensor),
      w1: tf.variable(init.w1 as tf.Tensor),
    };
    const x = tf.tensor2d(tracked);
    const tr = ntkTracker({ encoder: enc, params0: init, x, every: 5 });
    const problem = {
      simulate(n: number, rng: Rng) {
        return tf.tidy(() => {
          const theta = rng.uniformTensor([n], 0, 2 * Math.PI);
          const a = tf.add(theta, rng.normalTensor([n], 0, 0.5));
          return { theta, x: tf.stack([tf.cos(a), tf.sin(a)], 1) };
        });
      },
    };
    await fitEncoder({
      params,
      variational: (p, xb) => VonMises.fromNatural(tf.add(enc.apply(p, xb), 1e-4), { validateArgs: false }),
      objective: 'forward-kl',
      problem,
      optimizer: adam({ lr: 0.05 }),
      steps: 20,
      batchSize: 16,
      rng: createRng(4).split('train'),
      callbacks: { every: [tr.callback()] },
    });
    const before = tf.memory().numTensors;
    tr.record(21, params);
    tr.record(22, params);
    expect(tf.memory().numTensors).toBe(before); // the tracker holds and leaks no tensors
    expect(tr.rows.map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 21, 22]);
    expect(tr.rows[0]!.jacobianDistance).toBe(0);
    // Training moves the last layer off zero, which switches on the first-layer Jacobian.
    expect(tr.rows[4]!.jacobianDistance).toBeGreaterThan(tr.rows[1]!.jacobianDistance);
    for (const r of tr.rows) expect(Number.isFinite(r.ntkDistance) && Number.isFinite(r.eig2)).toBe(true);
    expect(() => tr.callback().fn({ step: 1, params: { w0: params.w0 } })).toThrow(/params\.w1/);
    tf.dispose([x, ...Object.values(init), ...Object.values(params)]);
  });

  it('names bad arguments', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
    const p = enc.init(createRng(1));
    const x = tf.tensor2d(tracked);
    expect(() => ntkTracker({ encoder: enc, params0: p, x, every: 0 })).toThrow(/every/);
    expect(() => ntkTracker({ encoder: enc, params0: { w0: p.w0! }, x, every: 1 })).toThrow(/params0\.w1/);
    const tr = ntkTracker({ encoder: enc, params0: p, x, every: 1 });
    expect(() => tr.record(-1, p)).toThrow(/step/);
    tf.dispose([x, ...Object.values(p)]);
  });
});
