import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  col2im,
  hasRotateBilinear,
  im2col,
  im2colPlain,
  rotateBilinear,
  rotatedNormalLogLik,
} from '../src/index.js';
import { BACKENDS_UNDER_TEST, maxAbs, maxAbsDiff, randn, values } from './helpers.js';

/** float64 bilinear rotation of one h×w image (border padding, align_corners = false). */
function refRotate(img: ArrayLike<number>, theta: number, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const x = (2 * j + 1) / w - 1;
      const y = (2 * i + 1) / h - 1;
      const px = clamp(((c * x - s * y + 1) * w - 1) / 2, w - 1);
      const py = clamp(((s * x + c * y + 1) * h - 1) / 2, h - 1);
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const ax = px - x0;
      const ay = py - y0;
      const at = (r: number, q: number) => img[r * w + q] as number;
      out[i * w + j] =
        (1 - ay) * ((1 - ax) * at(y0, x0) + ax * at(y0, x1)) + ay * ((1 - ax) * at(y1, x0) + ax * at(y1, x1));
    }
  }
  return out;
}

describe.each(BACKENDS_UNDER_TEST)('im2col, col2im and rotateBilinear on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it.each([
    [[3, 28, 28, 1], 3, 2],
    [[2, 13, 11, 4], 3, 2],
    [[2, 7, 6, 3], 2, 1],
  ] as const)(
    'im2col %j (k %i, stride %i) equals the one-hot convolution; col2im is its adjoint',
    (shape, k, s) => {
      const xv = randn(
        `im${shape.join()}`,
        (shape as readonly number[]).reduce((a, b) => a * b, 1),
      );
      const x = tf.tensor4d(xv, [...shape] as [number, number, number, number]);
      const p = im2col(x, k, k, s);
      const q = im2colPlain(x, k, k, s);
      expect(p.shape).toEqual(q.shape);
      expect(maxAbsDiff(values(p), values(q))).toBe(0);
      // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ in float64
      const cv = randn(`c${shape.join()}`, p.size);
      const c = tf.tensor2d(cv, p.shape as [number, number]);
      const back = values(col2im(c, shape, k, k, s));
      const pv = values(p);
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < pv.length; i++) lhs += pv[i]! * cv[i]!;
      for (let i = 0; i < xv.length; i++) rhs += xv[i]! * back[i]!;
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
      // its gradient is col2im, and col2im's is im2col (second order)
      const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(im2col(xx as tf.Tensor4D, k, k, s), c)))(x);
      expect(maxAbsDiff(values(g), back)).toBeLessThan(1e-5);
      const g2 = tf.grad((cc: tf.Tensor) => tf.sum(tf.mul(col2im(cc, shape, k, k, s), x)))(c);
      expect(maxAbsDiff(values(g2), pv)).toBeLessThan(1e-6);
      tf.dispose([x, p, q, c, g, g2]);
    },
  );

  it('rotateBilinear is registered here and equals a float64 reference for several angles', () => {
    expect(hasRotateBilinear()).toBe(true);
    const [h, w] = [28, 28];
    const imgs = randn('rot', 3 * h * w);
    const angles = [0, 0.3, (260 * Math.PI) / 180, -1.1, 2 * Math.PI + 0.7];
    const out = values(rotateBilinear(tf.tensor2d(imgs, [3, h * w]), tf.tensor1d(angles), h, w));
    for (let k = 0; k < angles.length; k++) {
      for (let n = 0; n < 3; n++) {
        const ref = refRotate(imgs.subarray(n * h * w, (n + 1) * h * w), angles[k]!, h, w);
        const got = out.subarray((k * 3 + n) * h * w, (k * 3 + n + 1) * h * w);
        expect(maxAbsDiff(got, ref)).toBeLessThan(1e-5);
      }
    }
  });

  it('d/dθ matches float64 central differences; d/dimages is the transposed resampling', () => {
    const [h, w] = [12, 10];
    const n = 2;
    const imgs = randn('rg', n * h * w);
    const rv = randn('rr', 3 * n * h * w);
    const angles = [0.4, 2.2, 4.5];
    const r = tf.tensor3d(rv, [3, n, h * w]);
    const im = tf.tensor2d(imgs, [n, h * w]);
    const th = tf.tensor1d(angles);
    const [gi, ga] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rotateBilinear(a, b, h, w), r)))([
      im,
      th,
    ]);
    const loss64 = (k: number, t: number) => {
      let s = 0;
      for (let b = 0; b < n; b++) {
        const ref = refRotate(imgs.subarray(b * h * w, (b + 1) * h * w), t, h, w);
        for (let q = 0; q < h * w; q++) s += ref[q]! * rv[(k * n + b) * h * w + q]!;
      }
      return s;
    };
    const gav = values(ga!);
    for (let k = 0; k < 3; k++) {
      const e = 1e-6;
      const fd = (loss64(k, angles[k]! + e) - loss64(k, angles[k]! - e)) / (2 * e);
      expect(Math.abs(gav[k]! - fd)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
    }
    // ⟨rotate(im), r⟩ = ⟨im, d/dim⟩ (linear in the images)
    const out = values(rotateBilinear(im, th, h, w));
    const giv = values(gi!);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < out.length; i++) lhs += out[i]! * rv[i]!;
    for (let i = 0; i < imgs.length; i++) rhs += imgs[i]! * giv[i]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, maxAbs([lhs])));
    tf.dispose([r, im, th, gi!, ga!]);
  });

  it('rotatedNormalLogLik equals a float64 reference; ∇ in angles, images and x match float64 central differences', () => {
    const [h, w, n, sd] = [9, 8, 2, 0.3];
    const m = h * w;
    const imgs = Float64Array.from(randn('li', n * m));
    const xs = Float64Array.from(randn('lx', n * m));
    const angles = [0.5, 3.9, -2.0];
    const up = [0.7, -1.3, 0.4];
    const ll64 = (im: Float64Array, x: Float64Array, t: number) => {
      let s = 0;
      for (let b = 0; b < n; b++) {
        const ref = refRotate(im.subarray(b * m, (b + 1) * m), t, h, w);
        for (let q = 0; q < m; q++) {
          const r = (x[b * m + q]! - ref[q]!) / sd;
          s += -0.5 * r * r - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
        }
      }
      return s;
    };
    const obj64 = (im: Float64Array, x: Float64Array, ts: number[]) =>
      ts.reduce((s, t, k) => s + up[k]! * ll64(im, x, t), 0);
    const im = tf.tensor2d(Float32Array.from(imgs), [n, m]);
    const th = tf.tensor1d(angles);
    const x = tf.tensor2d(Float32Array.from(xs), [n, m]);
    const ll = values(rotatedNormalLogLik(im, th, x, sd, h, w));
    for (let k = 0; k < 3; k++) {
      const ref = ll64(imgs, xs, angles[k]!);
      expect(Math.abs(ll[k]! - ref)).toBeLessThan(1e-5 * Math.abs(ref));
    }
    const u = tf.tensor1d(up);
    const [gi, ga, gx] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(rotatedNormalLogLik(a, b, c, sd, h, w), u)),
    )([im, th, x]);
    const e = 1e-6;
    const gav = values(ga!);
    for (let k = 0; k < 3; k++) {
      const tp = [...angles];
      const tm = [...angles];
      tp[k]! += e;
      tm[k]! -= e;
      const fd = (obj64(imgs, xs, tp) - obj64(imgs, xs, tm)) / (2 * e);
      expect(Math.abs(gav[k]! - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
    }
    for (const [arr, g] of [
      [imgs, values(gi!)],
      [xs, values(gx!)],
    ] as const) {
      for (const idx of [0, 17, 40, n * m - 1]) {
        const v0 = arr[idx]!;
        arr[idx] = v0 + e;
        const p = obj64(imgs, xs, angles);
        arr[idx] = v0 - e;
        const q = obj64(imgs, xs, angles);
        arr[idx] = v0;
        const fd = (p - q) / (2 * e);
        expect(Math.abs(g[idx]! - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
      }
    }
    tf.dispose([im, th, x, u, gi!, ga!, gx!]);
  });

  it('rejects bad shapes naming the argument and keeps no tensors', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grad((b: tf.Tensor) => tf.sum(rotateBilinear(tf.ones([2, 16]), b, 4, 4)))(tf.ones([3]));
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => rotateBilinear(tf.ones([2, 15]), tf.ones([3]), 4, 4)).toThrow(/images/);
    expect(() => rotateBilinear(tf.ones([2, 16]), tf.ones([3, 1]), 4, 4)).toThrow(/angles/);
    expect(() => im2col(tf.ones([2, 2, 2]) as never, 3, 3, 1)).toThrow(/x/);
    expect(() => im2col(tf.ones([1, 5, 5, 1]), 3, 3, 0)).toThrow(/stride/);
  });
});
