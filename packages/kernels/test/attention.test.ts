import { initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionPlain, FusedAttention, fusedAttention, hasFusedKernel } from '../src/index.js';
import { setSimdEnabled } from '../src/wasm/simd.js';
import { BACKEND_SIMD_CASES, maxAbs, maxAbsDiff, randn, values } from './helpers.js';

describe.each(BACKEND_SIMD_CASES)('fusedAttention on %s, SIMD %s', (backend, simd) => {
  beforeAll(async () => {
    await initBackend({ backend });
    setSimdEnabled(simd);
  });

  const cases = [
    { G: 4, nq: 37, nk: 53, d: 16, dv: 16, scale: 1 / 8 },
    { G: 2, nq: 5, nk: 200, d: 7, dv: 3, scale: undefined },
    { G: 4, nq: 1, nk: 64, d: 16, dv: 16, scale: 1 / 8 },
  ];

  it('is registered for this backend', () => {
    expect(hasFusedKernel(FusedAttention)).toBe(true);
  });

  it.each(cases)(
    'value and gradients (q, k, v) match the plain composition (%o)',
    ({ G, nq, nk, d, dv, scale }) => {
      const q = tf.tensor3d(randn(`q${nq}`, G * nq * d, 2), [G, nq, d]);
      const k = tf.tensor3d(randn(`k${nq}`, G * nk * d, 2), [G, nk, d]);
      const v = tf.tensor3d(randn(`v${nq}`, G * nk * dv), [G, nk, dv]);
      const c = tf.tensor3d(randn(`c${nq}`, G * nq * dv), [G, nq, dv]);
      const [yf, yp] = tf.tidy(() => [
        values(fusedAttention(q, k, v, scale)),
        values(attentionPlain(q, k, v, scale)),
      ]);
      expect(maxAbsDiff(yf, yp)).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(yp)));
      const loss = (f: typeof fusedAttention) => (a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) =>
        tf.sum(tf.mul(f(a, b, e, scale), c));
      const before = tf.memory().numTensors;
      const gf = tf.grads(loss(fusedAttention))([q, k, v]);
      const gp = tf.grads(loss(attentionPlain))([q, k, v]);
      for (let i = 0; i < 3; i++) {
        const p = values(gp[i]);
        expect(maxAbsDiff(values(gf[i]), p)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(p)));
      }
      tf.dispose([...gf, ...gp]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([q, k, v, c]);
    },
  );

  it('stays exact with scores far beyond exp range (no overflow: online max)', () => {
    // Scores ~ ±1e4: a naive exp overflows; softmax picks the argmax key.
    const [y, yp] = tf.tidy(() => {
      const q = tf.tensor3d([100, 0, -100, 0], [1, 2, 2]);
      const k = tf.tensor3d([100, 0, -100, 0, 0, 100], [1, 3, 2]);
      const v = tf.tensor3d([1, 2, 3], [1, 3, 1]);
      return [values(fusedAttention(q, k, v, 1)), values(attentionPlain(q, k, v, 1))];
    });
    expect(Array.from(y)).toEqual([1, 2]);
    expect(maxAbsDiff(y, yp)).toBe(0);
  });

  it('rejects mismatched shapes naming the argument', () => {
    tf.tidy(() => {
      expect(() => fusedAttention(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 3]), tf.zeros([2, 5, 4]))).toThrow(
        ShapeError,
      );
      expect(() => fusedAttention(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 4]), tf.zeros([2, 6, 4]))).toThrow(
        /v/,
      );
      expect(() => fusedAttention(tf.zeros([3, 4]), tf.zeros([2, 5, 4]), tf.zeros([2, 5, 4]))).toThrow(/q/);
    });
  });
});
