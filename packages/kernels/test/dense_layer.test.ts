import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DenseActivation,
  denseLayer,
  denseLayerPlain,
  GcviDenseLayer,
  GcviMatMul,
  hasFusedKernel,
  matMul,
} from '../src/index.js';
import { setSimdEnabled } from '../src/wasm/simd.js';
import { BACKEND_SIMD_CASES, maxAbs, maxAbsDiff, randn, values } from './helpers.js';

/** float64 op(A) op(B). */
function refMatMul(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++)
        s += (ta ? a[q * m + i]! : a[i * k + q]!) * (tb ? b[j * k + q]! : b[q * n + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

function act(v: number, a: DenseActivation, alpha: number): number {
  if (a === 'relu') return Math.max(v, 0);
  if (a === 'leakyRelu') return v > 0 ? v : alpha * v;
  if (a === 'tanh') return Math.tanh(v);
  return v;
}

/** float64 Σ r ⊙ act(x op(W) + b): a scalar to differentiate by central differences. */
function refLoss(
  x: Float64Array,
  w: Float64Array,
  b: Float64Array,
  r: Float32Array,
  m: number,
  k: number,
  n: number,
  t: boolean,
  a: DenseActivation,
  alpha: number,
) {
  let s = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let v = b[j]!;
      for (let q = 0; q < k; q++) v += x[i * k + q]! * (t ? w[j * k + q]! : w[q * n + j]!);
      s += r[i * n + j]! * act(v, a, alpha);
    }
  }
  return s;
}

describe.each(BACKEND_SIMD_CASES)('matMul and denseLayer on %s, SIMD %s', (backend, simd) => {
  beforeAll(async () => {
    await initBackend({ backend });
    setSimdEnabled(simd);
  });

  it('are registered as fused kernels here', () => {
    expect(hasFusedKernel(GcviMatMul)).toBe(true);
    expect(hasFusedKernel(GcviDenseLayer)).toBe(true);
  });

  it.each([
    [5, 13, 7],
    [33, 17, 65],
    [64, 24, 300],
  ])('matMul %i×%i (inner %i) equals a float64 product for all four transpose cases', (m, n, k) => {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const av = randn(`a${m}${ta}`, m * k);
        const bv = randn(`b${n}${tb}`, k * n);
        const a = tf.tensor2d(av, ta ? [k, m] : [m, k]);
        const b = tf.tensor2d(bv, tb ? [n, k] : [k, n]);
        const c = matMul(a, b, ta, tb);
        expect(c.shape).toEqual([m, n]);
        const ref = refMatMul(av, bv, m, n, k, ta, tb);
        expect(maxAbsDiff(values(c), ref)).toBeLessThan(2e-6 * Math.sqrt(k) * Math.max(1, maxAbs(ref)));
        tf.dispose([a, b, c]);
      }
    }
  });

  it('matMul gradients equal those of tf.matMul (every transpose case), also second order', () => {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = tf.tensor2d(randn('ga', 6 * 5), ta ? [5, 6] : [6, 5]);
        const b = tf.tensor2d(randn('gb', 5 * 7), tb ? [7, 5] : [5, 7]);
        const r = tf.tensor2d(randn('gr', 6 * 7), [6, 7]);
        const f = (mm: typeof matMul) => (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.square(mm(x, y, ta, tb)), r));
        const ours = tf.grads(f(matMul));
        const theirs = tf.grads(f((x, y, p, q) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, p, q)));
        const [ga, gb] = ours([a, b]);
        const [ha, hb] = theirs([a, b]);
        expect(maxAbsDiff(values(ga!), values(ha!))).toBeLessThan(1e-4);
        expect(maxAbsDiff(values(gb!), values(hb!))).toBeLessThan(1e-4);
        // second order: d/da of Σ (∂f/∂b)², through matMul's own gradient
        const g2 = (mm: typeof matMul) =>
          tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.grads(f(mm))([x, b])[1]!)));
        const s1 = g2(matMul)(a);
        const s2 = g2((x, y, p, q) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, p, q))(a);
        expect(maxAbsDiff(values(s1), values(s2))).toBeLessThan(1e-3 * Math.max(1, maxAbs(values(s2))));
        tf.dispose([a, b, r, ga!, gb!, ha!, hb!, s1, s2]);
      }
    }
  });

  const layerCases: [DenseActivation, boolean][] = [
    ['linear', false],
    ['relu', false],
    ['leakyRelu', false],
    ['tanh', true],
    ['relu', true],
  ];
  it.each(layerCases)(
    'denseLayer %s (W transposed: %s): value like a float64 reference, ∇ like the plain tfjs composition and float64 differences',
    (activation, t) => {
      const [m, k, n] = [9, 11, 10];
      const alpha = 0.01;
      const xv = randn(`x${activation}${t}`, m * k);
      const wv = randn(`w${activation}${t}`, k * n, 0.5);
      const bv = randn(`b${activation}${t}`, n, 0.5);
      const rv = randn(`r${activation}${t}`, m * n);
      const x = tf.tensor2d(xv, [m, k]);
      const w = tf.tensor2d(wv, t ? [n, k] : [k, n]);
      const b = tf.tensor1d(bv);
      const r = tf.tensor2d(rv, [m, n]);
      const opts = { activation, alpha, transposeW: t };
      const y = denseLayer(x, w, b, opts);
      const yPlain = denseLayerPlain(x, w, b, opts);
      expect(maxAbsDiff(values(y), values(yPlain))).toBeLessThan(1e-5);
      const ref = new Float64Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let v = bv[j]!;
          for (let q = 0; q < k; q++) v += xv[i * k + q]! * (t ? wv[j * k + q]! : wv[q * n + j]!);
          ref[i * n + j] = act(v, activation, alpha);
        }
      }
      expect(maxAbsDiff(values(y), ref)).toBeLessThan(1e-5);
      const loss = (f: typeof denseLayer) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(f(xx, ww, bb, opts), r));
      const ours = tf.grads(loss(denseLayer))([x, w, b]);
      const plain = tf.grads(loss(denseLayerPlain))([x, w, b]);
      for (let i = 0; i < 3; i++) expect(maxAbsDiff(values(ours[i]!), values(plain[i]!))).toBeLessThan(1e-4);
      // float64 central differences on a few coordinates of each argument
      const X = Float64Array.from(xv);
      const W = Float64Array.from(wv);
      const B = Float64Array.from(bv);
      const h = 1e-6;
      for (const [arr, gi] of [
        [X, 0],
        [W, 1],
        [B, 2],
      ] as const) {
        const g = values(ours[gi]!);
        for (const idx of [0, 3, arr.length - 1]) {
          const v0 = arr[idx]!;
          arr[idx] = v0 + h;
          const up = refLoss(X, W, B, rv, m, k, n, t, activation, alpha);
          arr[idx] = v0 - h;
          const dn = refLoss(X, W, B, rv, m, k, n, t, activation, alpha);
          arr[idx] = v0;
          expect(Math.abs(g[idx]! - (up - dn) / (2 * h))).toBeLessThan(1e-3);
        }
      }
      tf.dispose([x, w, b, r, y, yPlain, ...ours, ...plain]);
    },
  );

  // (tfjs's own leakyRelu gradient is not differentiable again: Greater has no gradient)
  it('denseLayer double VJP (∂/∂x of ‖∂L/∂W‖²) equals the plain composition (tanh, relu)', () => {
    for (const activation of ['tanh', 'relu'] as const) {
      const x = tf.tensor2d(randn('dx', 4 * 3), [4, 3]);
      const w = tf.tensor2d(randn('dw', 3 * 5), [3, 5]);
      const b = tf.tensor1d(randn('db', 5));
      const opts = { activation, alpha: 0.1 };
      const outer = (f: typeof denseLayer) =>
        tf.grad((xx: tf.Tensor) => {
          const gw = tf.grads((ww: tf.Tensor) => tf.sum(tf.square(f(xx, ww, b, opts))))([w])[0]!;
          return tf.sum(tf.square(gw));
        });
      const a = outer(denseLayer)(x);
      const p = outer(denseLayerPlain)(x);
      expect(maxAbsDiff(values(a), values(p))).toBeLessThan(1e-3 * Math.max(1, maxAbs(values(p))));
      tf.dispose([x, w, b, a, p]);
    }
  });

  it('keeps no tensors and names the bad argument', () => {
    const x = tf.ones([3, 4]);
    const w = tf.ones([4, 2]);
    const b = tf.ones([2]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(denseLayer(xx, ww, b, { activation: 'relu' })))([
        x,
        w,
      ]);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => denseLayer(x, tf.ones([5, 2]), b)).toThrow(/b|inner/);
    expect(() => denseLayer(x, w, tf.ones([3]))).toThrow(/'?b'?/);
    expect(() => denseLayer(x, w, b, { activation: 'gelu' as never })).toThrow(/activation/);
    expect(() => denseLayer(x, w, b, { activation: 'leakyRelu', alpha: -1 })).toThrow(/alpha/);
    tf.dispose([x, w, b]);
  });
});
