import { GcviError, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedNtkDense, fusedDense, fusedDensePlain, hasFusedKernel } from '../src/index.js';
import { setSimdEnabled } from '../src/wasm/simd.js';
import { BACKEND_SIMD_CASES, maxAbs, maxAbsDiff, randn, values } from './helpers.js';

/** float64 reference forward: relu(x W1) W2 · s. */
function refForward(
  x: Float32Array,
  w1: Float32Array,
  w2: Float32Array,
  B: number,
  I: number,
  W: number,
  O: number,
  s: number,
) {
  const y = new Float64Array(B * O);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < W; j++) {
      let h = 0;
      for (let i = 0; i < I; i++) h += x[b * I + i] * w1[i * W + j];
      if (h > 0) for (let o = 0; o < O; o++) y[b * O + o] += h * w2[j * O + o] * s;
    }
  }
  return y;
}

describe.each(BACKEND_SIMD_CASES)('fusedDense on %s, SIMD %s', (backend, simd) => {
  beforeAll(async () => {
    await initBackend({ backend });
    setSimdEnabled(simd);
  });

  const cases = [
    { B: 16, I: 2, W: 64, O: 2 },
    { B: 7, I: 3, W: 257, O: 5 },
    { B: 16, I: 2, W: 4096, O: 2 },
  ];

  it('is registered for this backend', () => {
    expect(hasFusedKernel(FusedNtkDense)).toBe(true);
  });

  it.each(cases)(
    'forward matches a float64 reference and the plain tfjs composition (%o)',
    ({ B, I, W, O }) => {
      const x = randn(`x${W}`, B * I);
      const w1 = randn(`w1${W}`, I * W);
      const w2 = randn(`w2${W}`, W * O);
      const s = 1 / Math.sqrt(W);
      const ref = refForward(x, w1, w2, B, I, W, O, s);
      const [fused, plain] = tf.tidy(() => {
        const xt = tf.tensor2d(x, [B, I]);
        const a = tf.tensor2d(w1, [I, W]);
        const c = tf.tensor2d(w2, [W, O]);
        return [values(fusedDense(xt, a, c)), values(fusedDensePlain(xt, a, c))];
      });
      const tol = 1e-6 * Math.max(1, maxAbs(ref));
      expect(maxAbsDiff(fused, ref)).toBeLessThanOrEqual(tol);
      // The plain composition accumulates in float32 (and in XNNPACK's order on wasm).
      expect(maxAbsDiff(fused, plain)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(ref)));
    },
  );

  it.each(cases)(
    'gradients w.r.t. x, W1, W2 match tf.grads of the plain composition (%o)',
    ({ B, I, W, O }) => {
      const x = tf.tensor2d(randn(`gx${W}`, B * I), [B, I]);
      const w1 = tf.tensor2d(randn(`gw1${W}`, I * W), [I, W]);
      const w2 = tf.tensor2d(randn(`gw2${W}`, W * O), [W, O]);
      const c = tf.tensor2d(randn(`gc${W}`, B * O), [B, O]);
      const loss = (f: typeof fusedDense) => (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
        tf.sum(tf.mul(f(a, b, d), c));
      const before = tf.memory().numTensors;
      const gf = tf.grads(loss(fusedDense))([x, w1, w2]);
      const gp = tf.grads(loss(fusedDensePlain))([x, w1, w2]);
      for (let k = 0; k < 3; k++) {
        const p = values(gp[k]);
        expect(gf[k].shape).toEqual(gp[k].shape);
        expect(maxAbsDiff(values(gf[k]), p)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(p)));
      }
      tf.dispose([...gf, ...gp]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w1, w2, c]);
    },
  );

  it('gradients match float64 central finite differences of the reference', () => {
    const B = 3;
    const I = 2;
    const W = 9;
    const O = 2;
    const x = randn('fx', B * I);
    const w1 = randn('fw1', I * W);
    const w2 = randn('fw2', W * O);
    const c = randn('fc', B * O);
    const s = 0.7;
    const f = (xa: Float32Array, a: Float32Array, b: Float32Array) => {
      const y = refForward(xa, a, b, B, I, W, O, s);
      let t = 0;
      for (let k = 0; k < y.length; k++) t += y[k] * c[k];
      return t;
    };
    const fd = (which: number): Float64Array => {
      const arrs = [x, w1, w2].map((a) => Float64Array.from(a));
      const target = arrs[which];
      const out = new Float64Array(target.length);
      const h = 1e-6;
      for (let k = 0; k < target.length; k++) {
        const v = target[k];
        target[k] = v + h;
        const up = f(
          ...(arrs.map((a) => a as unknown as Float32Array) as [Float32Array, Float32Array, Float32Array]),
        );
        target[k] = v - h;
        const dn = f(
          ...(arrs.map((a) => a as unknown as Float32Array) as [Float32Array, Float32Array, Float32Array]),
        );
        target[k] = v;
        out[k] = (up - dn) / (2 * h);
      }
      return out;
    };
    const g = tf.tidy(() =>
      tf
        .grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.sum(tf.mul(fusedDense(a, b, d, s), tf.tensor2d(c, [B, O]))),
        )([tf.tensor2d(x, [B, I]), tf.tensor2d(w1, [I, W]), tf.tensor2d(w2, [W, O])])
        .map((t) => Array.from(values(t))),
    );
    for (let k = 0; k < 3; k++) expect(maxAbsDiff(g[k], fd(k))).toBeLessThanOrEqual(1e-5);
  });

  it('gives zero gradient to W1 when W2 = 0 (the E1 initialization)', () => {
    const gw1 = tf.tidy(() => {
      const x = tf.tensor2d(randn('zx', 8), [4, 2]);
      const w2 = tf.zeros([16, 2]);
      return values(
        tf.grad((w: tf.Tensor) => tf.sum(fusedDense(x, w, w2)))(tf.tensor2d(randn('zw', 32), [2, 16])),
      );
    });
    expect(maxAbs(gw1)).toBe(0);
  });

  it('rejects bad shapes and dtypes with errors naming the argument', () => {
    tf.tidy(() => {
      const x = tf.zeros([4, 2]);
      expect(() => fusedDense(x, tf.zeros([3, 8]), tf.zeros([8, 2]))).toThrow(ShapeError);
      expect(() => fusedDense(x, tf.zeros([2, 8]), tf.zeros([7, 2]))).toThrow(/w2/);
      expect(() => fusedDense(tf.zeros([2]), tf.zeros([2, 8]), tf.zeros([8, 2]))).toThrow(/x/);
      expect(() => fusedDense(tf.zeros([4, 2], 'int32'), tf.zeros([2, 8]), tf.zeros([8, 2]))).toThrow(
        GcviError,
      );
      expect(() => fusedDense(x, tf.zeros([2, 8]), tf.zeros([8, 2]), Number.NaN)).toThrow(/scale/);
    });
  });
});
