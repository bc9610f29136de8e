import { createRng, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GcviRqSpline, hasFusedKernel, type RqSplineAttrs, rqSplineFused } from '../src/index.js';
import { BACKENDS_UNDER_TEST } from './helpers.js';

const K = 5;
const P = 3 * K - 1;
const BASE: Omit<RqSplineAttrs, 'inverse'> = {
  bins: K,
  bound: 3,
  minBinWidth: 1e-3,
  minBinHeight: 1e-3,
  minDerivative: 1e-3,
};

/**
 * float64 reference of the forward spline from its definition (Durkan et al. 2019, eqs. 4–5 and
 * the derivative), written out independently of the kernel: softmax bins, knots, the bin of x,
 * y and log dy/dx.
 */
function refForward(x: number, raw: ArrayLike<number>, a = BASE): { y: number; ld: number } {
  const B = a.bound;
  if (Math.abs(x) > B) return { y: x, ld: 0 };
  const soft = (o: number) => {
    const e = Array.from({ length: K }, (_, j) => Math.exp(raw[o + j] as number));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((v) => v / s);
  };
  const knots = (fr: number[], min: number) => {
    const out = [-B];
    let c = 0;
    for (const f of fr) {
      c += min + (1 - min * K) * f;
      out.push(-B + 2 * B * c);
    }
    return out;
  };
  const xs = knots(soft(0), a.minBinWidth);
  const ys = knots(soft(K), a.minBinHeight);
  const cc = Math.log(Math.expm1(1 - a.minDerivative));
  const d = [1];
  for (let j = 0; j < K - 1; j++)
    d.push(a.minDerivative + Math.log1p(Math.exp((raw[2 * K + j] as number) + cc)));
  d.push(1);
  let k = 0;
  while (k < K - 1 && x >= (xs[k + 1] as number)) k++;
  const w = (xs[k + 1] as number) - (xs[k] as number);
  const h = (ys[k + 1] as number) - (ys[k] as number);
  const s = h / w;
  const xi = (x - (xs[k] as number)) / w;
  const d0 = d[k] as number;
  const d1 = d[k + 1] as number;
  const den = s + (d0 + d1 - 2 * s) * xi * (1 - xi);
  const y = (ys[k] as number) + (h * (s * xi * xi + d0 * xi * (1 - xi))) / den;
  const dydx = (s * s * (d1 * xi * xi + 2 * s * xi * (1 - xi) + d0 * (1 - xi) ** 2)) / (den * den);
  return { y, ld: Math.log(dydx) };
}

/** float64 inverse by bisection of the reference forward map (monotone), and −log dy/dx there. */
function refInverse(y: number, raw: ArrayLike<number>): { x: number; ld: number } {
  if (Math.abs(y) > BASE.bound) return { x: y, ld: 0 };
  let lo = -BASE.bound;
  let hi = BASE.bound;
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (refForward(mid, raw).y < y) lo = mid;
    else hi = mid;
  }
  const x = 0.5 * (lo + hi);
  return { x, ld: -refForward(x, raw).ld };
}

function data(seed: number, m: number) {
  const rng = createRng(seed);
  const x = new Float32Array(m);
  for (let i = 0; i < m; i++) x[i] = -3.6 + 7.2 * rng.uniform();
  const raw = new Float32Array(m * P);
  for (let i = 0; i < raw.length; i++) raw[i] = 1.2 * rng.normal();
  return { x, raw };
}

/** Σ u·y + v·logDet, the scalar whose gradient is checked (u, v fixed random weights). */
function weights(m: number) {
  const rng = createRng(99);
  return {
    u: Float64Array.from({ length: m }, () => rng.normal()),
    v: Float64Array.from({ length: m }, () => rng.normal()),
  };
}

describe.each(BACKENDS_UNDER_TEST)('GcviRqSpline on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it('is registered', () => {
    expect(tf.getBackend()).toBe(backend);
    expect(hasFusedKernel(GcviRqSpline)).toBe(true);
  });

  it('forward values and log-det match the float64 reference; inverse matches bisection', () => {
    const m = 200;
    const { x, raw } = data(1, m);
    const f = rqSplineFused(tf.tensor1d(x), tf.tensor2d(raw, [m, P]), { ...BASE, inverse: false });
    const y = f.y.dataSync();
    const ld = f.logDet.dataSync();
    let maxY = 0;
    let maxL = 0;
    for (let i = 0; i < m; i++) {
      const r = refForward(x[i] as number, raw.subarray(i * P, (i + 1) * P));
      maxY = Math.max(maxY, Math.abs((y[i] as number) - r.y));
      maxL = Math.max(maxL, Math.abs((ld[i] as number) - r.ld));
    }
    expect(maxY).toBeLessThan(2e-6);
    expect(maxL).toBeLessThan(2e-5);
    const g = rqSplineFused(tf.tensor1d(x), tf.tensor2d(raw, [m, P]), { ...BASE, inverse: true });
    const xb = g.y.dataSync();
    const lb = g.logDet.dataSync();
    let maxX = 0;
    let maxLi = 0;
    for (let i = 0; i < m; i++) {
      const r = refInverse(x[i] as number, raw.subarray(i * P, (i + 1) * P));
      maxX = Math.max(maxX, Math.abs((xb[i] as number) - r.x));
      maxLi = Math.max(maxLi, Math.abs((lb[i] as number) - r.ld));
    }
    expect(maxX).toBeLessThan(2e-5);
    expect(maxLi).toBeLessThan(1e-4);
    tf.dispose([f.y, f.logDet, g.y, g.logDet]);
  });

  it.each([false, true])(
    'gradients (inverse %s) match float64 central differences of the reference',
    (inverse) => {
      const m = 48;
      const { x, raw } = data(inverse ? 3 : 2, m);
      const { u, v } = weights(m);
      const [gx, graw] = tf.grads((xt: tf.Tensor, rt: tf.Tensor) => {
        const r = rqSplineFused(xt, rt, { ...BASE, inverse });
        return tf.add(
          tf.sum(tf.mul(r.y, Float32Array.from(u))),
          tf.sum(tf.mul(r.logDet, Float32Array.from(v))),
        );
      })([tf.tensor1d(x), tf.tensor2d(raw, [m, P])]) as [tf.Tensor, tf.Tensor];
      const gxv = gx.dataSync();
      const grv = graw.dataSync();
      const ref = (i: number, xi: number, row: Float64Array) => {
        const r = inverse ? refInverse(xi, row) : refForward(xi, row);
        return (u[i] as number) * ('x' in r ? r.x : r.y) + (v[i] as number) * r.ld;
      };
      const eps = 1e-6;
      let worst = 0;
      for (let i = 0; i < m; i++) {
        const row = Float64Array.from(raw.subarray(i * P, (i + 1) * P));
        const xi = x[i] as number;
        const fdX = (ref(i, xi + eps, row) - ref(i, xi - eps, row)) / (2 * eps);
        worst = Math.max(worst, Math.abs(fdX - (gxv[i] as number)) / (1 + Math.abs(fdX)));
        for (let p = 0; p < P; p++) {
          const up = Float64Array.from(row);
          const dn = Float64Array.from(row);
          up[p] = (up[p] as number) + eps;
          dn[p] = (dn[p] as number) - eps;
          const fd = (ref(i, xi, up) - ref(i, xi, dn)) / (2 * eps);
          worst = Math.max(worst, Math.abs(fd - (grv[i * P + p] as number)) / (1 + Math.abs(fd)));
        }
      }
      // float32 outputs of a float64 computation; the bisection inverse is exact to ~1e-15
      expect(worst).toBeLessThan(inverse ? 5e-4 : 1e-4);
      tf.dispose([gx, graw]);
    },
  );

  it('rejects a raw tensor of the wrong width, naming it', () => {
    expect(() => rqSplineFused(tf.zeros([3]), tf.zeros([3, P + 1]), { ...BASE, inverse: false })).toThrow(
      ShapeError,
    );
  });
});
