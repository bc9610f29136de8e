import { rqSpline, rqSplinePlain, splineParamCount } from '@gcvi/flows';
import { hasRqSpline } from '@gcvi/kernels';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { refSpline } from './ref.js';

beforeAll(async () => {
  await initBackend();
});

const K = 8;
const B = 3;

describe('rqSpline', () => {
  it('matches the float64 reference, inverts itself, and its log-derivative matches finite differences', () => {
    const rng = createRng(3);
    const m = 400;
    const P = splineParamCount(K);
    const raw = rng.normalTensor([m, P], 0, 1.5) as tf.Tensor2D;
    // Points across the interval, its edges and both tails.
    const xs = Array.from({ length: m }, (_, i) => -4 + (8 * i) / (m - 1));
    xs[0] = -B;
    xs[m - 1] = B;
    const x = tf.tensor1d(xs);
    const fwd = rqSpline(x, raw, K, { bound: B });
    const back = rqSpline(fwd.y, raw, K, { bound: B }, true);
    const y = fwd.y.dataSync();
    const ld = fwd.logDet.dataSync();
    const xb = back.y.dataSync();
    const ldb = back.logDet.dataSync();
    const r = raw.dataSync();
    let maxInv = 0;
    for (let i = 0; i < m; i++) {
      const row = Array.from(r.subarray(i * P, (i + 1) * P));
      const ref = refSpline(xs[i] as number, row, K, B);
      expect(Math.abs((y[i] as number) - ref.y)).toBeLessThan(2e-5);
      expect(Math.abs((ld[i] as number) - ref.logDet)).toBeLessThan(2e-4);
      // Derivative of the float64 reference by central differences (skip points on a tail edge).
      const xi = xs[i] as number;
      if (Math.abs(Math.abs(xi) - B) > 1e-4) {
        const h = 1e-6;
        const fd = (refSpline(xi + h, row, K, B).y - refSpline(xi - h, row, K, B).y) / (2 * h);
        // The spline is C¹ but its second derivative jumps at knots: O(h) error there.
        expect(Math.abs(Math.log(fd) - ref.logDet)).toBeLessThan(1e-5);
      }
      // Float64 inverse of the reference.
      const inv = refSpline(ref.y, row, K, B, true);
      expect(Math.abs(inv.y - xi)).toBeLessThan(1e-10);
      expect(Math.abs(inv.logDet + ref.logDet)).toBeLessThan(1e-9);
      // Round trip in float32: rounding y (relative 2^-23) moves x by that times |dx/dy|, which
      // is up to e^11 in the steepest bins these random parameters make.
      const ulpY = 2 ** -23 * Math.max(1, Math.abs(y[i] as number));
      const tolInv = 4 * 2 ** -23 * Math.max(1, Math.abs(xi)) + 8 * ulpY * Math.exp(-ref.logDet);
      expect(Math.abs((xb[i] as number) - xi)).toBeLessThan(tolInv);
      maxInv = Math.max(maxInv, Math.abs((xb[i] as number) - xi) / tolInv);
      // The inverse's log-derivative at the float32 y: float32 rounding of y (relative 2^-23) is
      // amplified by |d logDet/dy|, large in steep narrow bins; allow that plus 1e-4.
      const yi = y[i] as number;
      const dy = 1e-7 * Math.max(1, Math.abs(yi));
      const sens =
        Math.abs(refSpline(yi + dy, row, K, B, true).logDet - refSpline(yi - dy, row, K, B, true).logDet) /
        (2 * dy);
      const tol = 1e-4 + 8 * 2 ** -23 * Math.max(1, Math.abs(yi)) * sens;
      expect(Math.abs((ldb[i] as number) + (ld[i] as number))).toBeLessThan(tol);
    }
    expect(maxInv).toBeLessThan(1);
    // Tails are the identity.
    expect(y[1]).toBeCloseTo(xs[1] as number, 6);
    expect(ld[1]).toBe(0);
    tf.dispose([raw, x, fwd.y, fwd.logDet, back.y, back.logDet]);
  });

  it('is the identity when all raw parameters are zero', () => {
    const x = tf.linspace(-3, 3, 101) as tf.Tensor1D;
    const raw = tf.zeros([101, splineParamCount(K)]) as tf.Tensor2D;
    const { y, logDet } = rqSpline(x, raw, K, { bound: B });
    const dx = tf.max(tf.abs(tf.sub(y, x))).dataSync()[0] as number;
    expect(dx).toBeLessThan(1e-5);
    expect(tf.max(tf.abs(logDet)).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('the fused kernel and the op composition agree in value, log-det and gradients (both directions)', () => {
    expect(hasRqSpline()).toBe(true); // wasm (or cpu): the fused path is what rqSpline runs
    const rng = createRng(11);
    const m = 300;
    const P = splineParamCount(K);
    const raw = rng.normalTensor([m, P], 0, 1.5) as tf.Tensor2D;
    const x = rng.uniformTensor([m], -3.5, 3.5) as tf.Tensor1D;
    const u = rng.normalTensor([m]);
    const v = rng.normalTensor([m]);
    for (const inverse of [false, true]) {
      const run = (f: typeof rqSpline) => {
        const g = tf.grads((xt: tf.Tensor, rt: tf.Tensor) => {
          const r = f(xt as tf.Tensor1D, rt as tf.Tensor2D, K, { bound: B }, inverse);
          return tf.add(tf.sum(tf.mul(r.y, u)), tf.sum(tf.mul(r.logDet, v)));
        })([x, raw]);
        const r = f(x, raw, K, { bound: B }, inverse);
        const out = [r.y, r.logDet, ...g].map((t) => Array.from(t.dataSync()));
        tf.dispose([r.y, r.logDet, ...g]);
        return out;
      };
      const fused = run(rqSpline);
      const plain = run(rqSplinePlain);
      // value, log-det, d/dx, d/draw: relative to the composition's scale (float32 arithmetic in
      // the composition, float64 in the kernel)
      for (let q = 0; q < 4; q++) {
        const a = fused[q] as number[];
        const b = plain[q] as number[];
        let worst = 0;
        for (let i = 0; i < a.length; i++)
          worst = Math.max(
            worst,
            Math.abs((a[i] as number) - (b[i] as number)) / (1 + Math.abs(b[i] as number)),
          );
        expect(worst, `inverse ${inverse}, output ${q}`).toBeLessThan(2e-3);
      }
    }
    tf.dispose([raw, x, u, v]);
  });
});
