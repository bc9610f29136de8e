import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedAdamStep, hasFusedKernel } from '../src/index.js';
import { setSimdEnabled } from '../src/wasm/simd.js';
import { BACKEND_SIMD_CASES, maxAbsDiff, randn, values } from './helpers.js';

/** float64 reference Adam (torch.optim.Adam's update with bias correction). */
function refAdam(
  p0: Float32Array[],
  grads: Float32Array[][],
  lrs: number[],
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
) {
  const p = p0.map((a) => Float64Array.from(a));
  const m = p0.map((a) => new Float64Array(a.length));
  const v = p0.map((a) => new Float64Array(a.length));
  grads.forEach((gs, s) => {
    const t = s + 1;
    gs.forEach((g, i) => {
      for (let k = 0; k < g.length; k++) {
        m[i][k] = b1 * m[i][k] + (1 - b1) * g[k];
        v[i][k] = b2 * v[i][k] + (1 - b2) * g[k] * g[k];
        p[i][k] -= (lrs[s] * m[i][k]) / (1 - b1 ** t) / (Math.sqrt(v[i][k] / (1 - b2 ** t)) + eps);
      }
    });
  });
  return p;
}

interface StepAttrs {
  learningRate: number;
  /** t ≥ 1: the bias correction's step number. */
  step: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  skipNonFinite?: boolean;
}

/** Adam state driven through the kernel: p, m, v per variable (owned here, replaced each step). */
interface KernelState {
  p: tf.Tensor[];
  m: tf.Tensor[];
  v: tf.Tensor[];
}

function initState(p0: tf.Tensor[]): KernelState {
  return { p: p0, m: p0.map((x) => tf.zerosLike(x)), v: p0.map((x) => tf.zerosLike(x)) };
}

/**
 * One launch of the FusedAdamStep kernel through `tf.engine().runKernel`: replaces the state's
 * tensors with the kernel's outputs (disposing the old ones) and returns the `applied` flag.
 * The gradient tensors are not disposed.
 */
function kernelStep(s: KernelState, grads: tf.Tensor[], attrs: StepAttrs): boolean {
  const n = s.p.length;
  const inputs: tf.NamedTensorMap = {};
  for (let i = 0; i < n; i++) {
    inputs[`p${i}`] = s.p[i];
    inputs[`g${i}`] = grads[i];
    inputs[`m${i}`] = s.m[i];
    inputs[`v${i}`] = s.v[i];
  }
  const outs = tf.engine().runKernel(FusedAdamStep, inputs, {
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    skipNonFinite: false,
    ...attrs,
    count: n,
  } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  expect(outs.length).toBe(3 * n + 1);
  tf.dispose([...s.p, ...s.m, ...s.v]);
  s.p = outs.filter((_, j) => j < 3 * n && j % 3 === 0);
  s.m = outs.filter((_, j) => j < 3 * n && j % 3 === 1);
  s.v = outs.filter((_, j) => j < 3 * n && j % 3 === 2);
  const flag = outs[3 * n];
  const applied = flag.dataSync()[0] === 1;
  flag.dispose();
  return applied;
}

describe.each(BACKEND_SIMD_CASES)('FusedAdamStep kernel on %s, SIMD %s', (backend, simd) => {
  beforeAll(async () => {
    await initBackend({ backend });
    setSimdEnabled(simd);
  });

  it('is registered for this backend', () => {
    expect(hasFusedKernel(FusedAdamStep)).toBe(true);
  });

  it('matches a float64 Adam over 6 steps with a changing learning rate (1e-6)', () => {
    const p0 = [randn('p0', 6), randn('p1', 10)];
    const grads = Array.from({ length: 6 }, (_, s) => [randn(`g0${s}`, 6), randn(`g1${s}`, 10, 1e-3)]);
    const lrs = grads.map((_, s) => 1 / (1 / 1e-2 + s / 10));
    const before = tf.memory().numTensors;
    const st = initState([tf.tensor2d(p0[0], [2, 3]), tf.tensor1d(p0[1])]);
    const afterInit = tf.memory().numTensors;
    grads.forEach((gs, s) => {
      const gt = [tf.tensor2d(gs[0], [2, 3]), tf.tensor1d(gs[1])];
      expect(kernelStep(st, gt, { learningRate: lrs[s], step: s + 1 })).toBe(true);
      tf.dispose(gt);
    });
    expect(tf.memory().numTensors).toBe(afterInit);
    expect(st.p[0].shape).toEqual([2, 3]);
    const ref = refAdam(p0, grads, lrs);
    expect(maxAbsDiff(values(st.p[0]), ref[0])).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(values(st.p[1]), ref[1])).toBeLessThanOrEqual(1e-6);
    tf.dispose([...st.p, ...st.m, ...st.v]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches tf.train.adam (same epsilon)', () => {
    const p = randn('q', 12);
    const g = randn('qg', 12);
    const b = tf.variable(tf.tensor1d(p), true, `fb_${backend}_${simd}`);
    const st = initState([tf.tensor1d(p)]);
    const plain = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
    for (let s = 0; s < 3; s++) {
      const gt = tf.tensor1d(g.map((x) => x * (s + 1)));
      kernelStep(st, [gt], { learningRate: 0.01, epsilon: 1e-7, step: s + 1 });
      plain.applyGradients([{ name: b.name, tensor: gt }]);
      gt.dispose();
    }
    expect(maxAbsDiff(values(st.p[0]), values(b))).toBeLessThanOrEqual(1e-6);
    plain.dispose();
    tf.dispose([b, ...st.p, ...st.m, ...st.v]);
  });

  it('skips the whole step on a NaN or Inf gradient when asked (outputs equal inputs)', () => {
    const st = initState([tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5])]);
    const attrs = { learningRate: 0.1, step: 1, skipNonFinite: true };
    tf.tidy(() => {
      expect(kernelStep(st, [tf.tensor1d([1, 1, 1]), tf.tensor1d([Number.NaN, 0])], attrs)).toBe(false);
      expect(
        kernelStep(st, [tf.tensor1d([1, Number.POSITIVE_INFINITY, 1]), tf.tensor1d([0, 0])], attrs),
      ).toBe(false);
      for (const t of [...st.p, ...st.m, ...st.v]) tf.keep(t);
    });
    expect(Array.from(values(st.p[0]))).toEqual([1, 2, 3]);
    expect(Array.from(values(st.p[1]))).toEqual([4, 5]);
    expect(Array.from(values(st.m[0]))).toEqual([0, 0, 0]);
    expect(Array.from(values(st.v[1]))).toEqual([0, 0]);
    // The first real step is bias-corrected as step 1: every coordinate moves by lr (sign of g).
    tf.tidy(() => {
      expect(kernelStep(st, [tf.tensor1d([1, -1, 1]), tf.tensor1d([2, -2])], attrs)).toBe(true);
      for (const t of [...st.p, ...st.m, ...st.v]) tf.keep(t);
    });
    expect(maxAbsDiff(values(st.p[0]), [0.9, 2.1, 2.9])).toBeLessThan(1e-6);
    expect(maxAbsDiff(values(st.p[1]), [3.9, 5.1])).toBeLessThan(1e-6);
    tf.dispose([...st.p, ...st.m, ...st.v]);
  });
});
