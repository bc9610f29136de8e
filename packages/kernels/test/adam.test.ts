import { ConfigError, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedAdam, FusedAdamStep, hasFusedKernel } from '../src/index.js';
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

describe.each(BACKEND_SIMD_CASES)('FusedAdam on %s, SIMD %s', (backend, simd) => {
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
    const vars = [tf.variable(tf.tensor2d(p0[0], [2, 3])), tf.variable(tf.tensor1d(p0[1]))];
    const opt = new FusedAdam(vars, { learningRate: lrs[0] });
    const before = tf.memory().numTensors;
    grads.forEach((gs, s) => {
      opt.learningRate = lrs[s];
      const gt = [tf.tensor2d(gs[0], [2, 3]), tf.tensor1d(gs[1])];
      expect(opt.applyGradients(gt)).toBe(true);
      tf.dispose(gt);
    });
    expect(tf.memory().numTensors).toBe(before);
    const ref = refAdam(p0, grads, lrs);
    expect(maxAbsDiff(values(vars[0]), ref[0])).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(values(vars[1]), ref[1])).toBeLessThanOrEqual(1e-6);
    expect(opt.iterations).toBe(6);
    opt.dispose();
    tf.dispose(vars);
  });

  it('matches tf.train.adam (same epsilon) on a named-gradient map', () => {
    const p = randn('q', 12);
    const g = randn('qg', 12);
    const a = tf.variable(tf.tensor1d(p), true, `fa_${backend}`);
    const b = tf.variable(tf.tensor1d(p), true, `fb_${backend}`);
    const fused = new FusedAdam([a], { learningRate: 0.01, epsilon: 1e-7 });
    const plain = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
    for (let s = 0; s < 3; s++) {
      const gt = tf.tensor1d(g.map((x) => x * (s + 1)));
      fused.applyGradients({ [a.name]: gt });
      plain.applyGradients([{ name: b.name, tensor: gt }]);
      gt.dispose();
    }
    expect(maxAbsDiff(values(a), values(b))).toBeLessThanOrEqual(1e-6);
    fused.dispose();
    plain.dispose();
    tf.dispose([a, b]);
  });

  it('skips the whole step on a NaN or Inf gradient when asked, and counts it', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.tensor1d([4, 5]));
    const opt = new FusedAdam([a, b], { learningRate: 0.1, skipNonFinite: true });
    tf.tidy(() => {
      expect(opt.applyGradients([tf.tensor1d([1, 1, 1]), tf.tensor1d([Number.NaN, 0])])).toBe(false);
      expect(opt.applyGradients([tf.tensor1d([1, Number.POSITIVE_INFINITY, 1]), tf.tensor1d([0, 0])])).toBe(
        false,
      );
    });
    expect(Array.from(values(a))).toEqual([1, 2, 3]);
    expect(Array.from(values(b))).toEqual([4, 5]);
    expect(opt.skipped).toBe(2);
    expect(opt.iterations).toBe(0);
    // The first real step is bias-corrected as step 1: every coordinate moves by lr (sign of g).
    tf.tidy(() => opt.applyGradients([tf.tensor1d([1, -1, 1]), tf.tensor1d([2, -2])]));
    expect(maxAbsDiff(values(a), [0.9, 2.1, 2.9])).toBeLessThan(1e-6);
    expect(maxAbsDiff(values(b), [3.9, 5.1])).toBeLessThan(1e-6);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('rejects bad config and mismatched gradients, naming the field', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    expect(() => new FusedAdam([a], { learningRate: -1 })).toThrow(/learningRate/);
    expect(() => new FusedAdam([a], { learningRate: 1, beta1: 1 })).toThrow(/beta1/);
    expect(() => new FusedAdam([], { learningRate: 1 })).toThrow(ConfigError);
    const opt = new FusedAdam([a], { learningRate: 1 });
    tf.tidy(() => {
      expect(() => opt.applyGradients([tf.zeros([3])])).toThrow(ShapeError);
      expect(() => opt.applyGradients([])).toThrow(/grads/);
    });
    opt.dispose();
    a.dispose();
  });
});
