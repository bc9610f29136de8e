import { initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  hasFusedKernel,
  VonMisesNll,
  vonMisesNll,
  vonMisesNllFromAngle,
  vonMisesNllFromAnglePlain,
  vonMisesNllPlain,
} from '../src/index.js';
import { BACKENDS_UNDER_TEST, maxAbsDiff, values } from './helpers.js';

/** log I0(κ) − κ from its integral representation (trapezoid rule, float64). */
function refLogI0e(k: number): number {
  const n = 20000;
  const h = Math.PI / n;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(k * (Math.cos(i * h) - 1));
  return Math.log((s * h) / Math.PI);
}

/**
 * float64 reference of the angle form: −κ cos(θ − μ) + log 2π + log I0(κ) = 2κ sin²((θ − μ)/2) +
 * log 2π + (log I0(κ) − κ), with μ = atan2(η2, η1) (no cancellation at large κ).
 */
function refNllAngle(e0: number, e1: number, th: number): number {
  const k = Math.hypot(e0, e1);
  const s = Math.sin((th - Math.atan2(e1, e0)) / 2);
  return 2 * k * s * s + Math.log(2 * Math.PI) + refLogI0e(k);
}

/** float64 reference: −η·t + log 2π + log I0(κ), I0 from its integral representation. */
function refNll(e0: number, e1: number, th: number): number {
  // The kernel sees float32 t = (cos θ, sin θ): round it the same way (the cancellation −η·t + κ at
  // large κ would otherwise amplify the input rounding). Callers pass float32-exact η.
  const c = Math.fround(Math.cos(th));
  const sn = Math.fround(Math.sin(th));
  const k = Math.hypot(e0, e1);
  const n = 20000;
  const h = Math.PI / n;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(k * (Math.cos(i * h) - 1));
  const logI0 = k + Math.log((s * h) / Math.PI);
  return -(e0 * c + e1 * sn) + Math.log(2 * Math.PI) + logI0;
}

// η with ‖η‖ from 1e-7 to 2e3 (both Bessel regimes and the κ → 0 limit).
const ETA = [
  [1e-7, -2e-7],
  [1e-4, 1e-4],
  [0.3, -0.2],
  [1.5, 2.5],
  [-3, 0.5],
  [10, -9],
  [14, 5],
  [-40, 30],
  [300, 400],
  [-1200, 1600],
];
const THETA = [0.1, 6.0, 3.1, 1.2, 4.4, 2.2, 0.0, 5.5, 0.9, 2.0];

describe.each(BACKENDS_UNDER_TEST)('vonMisesNll on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  const eta = () => tf.tensor2d(ETA.flat(), [ETA.length, 2]);
  const t = () =>
    tf.tensor2d(
      THETA.flatMap((a) => [Math.cos(a), Math.sin(a)]),
      [THETA.length, 2],
    );

  it('is registered for this backend', () => {
    expect(hasFusedKernel(VonMisesNll)).toBe(true);
  });

  it('per-example values match a float64 integral reference (1e-6 relative, float32 output)', () => {
    const got = tf.tidy(() => values(vonMisesNll(eta(), t(), 'none')));
    ETA.forEach(([a, b], i) => {
      const ref = refNll(Math.fround(a), Math.fround(b), THETA[i]);
      expect(Math.abs(got[i] - ref)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref)));
    });
  });

  it('mean and sum reductions agree with the per-example values', () => {
    const [none, mean, sum] = tf.tidy(() => [
      Array.from(values(vonMisesNll(eta(), t(), 'none'))),
      values(vonMisesNll(eta(), t()))[0],
      values(vonMisesNll(eta(), t(), 'sum'))[0],
    ]);
    const total = none.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - total)).toBeLessThanOrEqual(1e-6 * Math.abs(total));
    expect(Math.abs(mean - total / none.length)).toBeLessThanOrEqual(1e-6 * Math.abs(total));
  });

  it('gradient w.r.t. η matches float64 central differences of the reference (1e-5 relative)', () => {
    const w = ETA.map((_, i) => 0.5 + i / 10);
    const g = tf.tidy(() => {
      const wt = tf.tensor1d(w);
      return values(tf.grad((e: tf.Tensor) => tf.sum(tf.mul(vonMisesNll(e, t(), 'none'), wt)))(eta()));
    });
    ETA.forEach(([a0, b0], i) => {
      const a = Math.fround(a0);
      const b = Math.fround(b0);
      const h = 1e-5 * Math.max(1, Math.hypot(a, b));
      const d0 = (refNll(a + h, b, THETA[i]) - refNll(a - h, b, THETA[i])) / (2 * h);
      const d1 = (refNll(a, b + h, THETA[i]) - refNll(a, b - h, THETA[i])) / (2 * h);
      expect(Math.abs(g[2 * i] - w[i] * d0)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[i] * d0)));
      expect(Math.abs(g[2 * i + 1] - w[i] * d1)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[i] * d1)));
    });
  });

  it('value and gradients (η and t) match the plain tfjs composition on moderate κ', () => {
    const e = tf.tensor2d(ETA.slice(1, 8).flat(), [7, 2]);
    const tt = tf.tensor2d(
      THETA.slice(1, 8).flatMap((a) => [Math.cos(a), Math.sin(a)]),
      [7, 2],
    );
    for (const red of ['mean', 'sum', 'none'] as const) {
      const f = (fn: typeof vonMisesNll) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(fn(a, b, red));
      const [vf, vp] = tf.tidy(() => [
        values(tf.sum(vonMisesNll(e, tt, red))),
        values(tf.sum(vonMisesNllPlain(e, tt, red))),
      ]);
      expect(maxAbsDiff(vf, vp)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(vp[0])));
      const gf = tf.grads(f(vonMisesNll))([e, tt]);
      const gp = tf.grads(f(vonMisesNllPlain))([e, tt]);
      for (let k = 0; k < 2; k++) expect(maxAbsDiff(values(gf[k]), values(gp[k]))).toBeLessThanOrEqual(1e-4);
      tf.dispose([...gf, ...gp]);
    }
    tf.dispose([e, tt]);
  });

  it('stays finite with finite gradients at extreme concentrations (‖η‖ = 1e-30 and 1e30)', () => {
    const [v, g] = tf.tidy(() => {
      const e = tf.tensor2d([1e-30, 0, 6e29, 8e29], [2, 2]);
      const tt = tf.tensor2d([1, 0, 0.6, 0.8], [2, 2]);
      return [values(vonMisesNll(e, tt, 'none')), values(tf.grad((a: tf.Tensor) => vonMisesNll(a, tt))(e))];
    });
    expect(Math.abs(v[0] - Math.log(2 * Math.PI))).toBeLessThan(1e-6);
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
  });

  describe('angle form', () => {
    const theta = () => tf.tensor1d(THETA);

    it('per-example values match the float64 reference (1e-6 relative)', () => {
      const got = tf.tidy(() => values(vonMisesNllFromAngle(eta(), theta(), 'none')));
      ETA.forEach(([a, b], i) => {
        const ref = refNllAngle(Math.fround(a), Math.fround(b), Math.fround(THETA[i]));
        expect(Math.abs(got[i] - ref)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref)));
      });
    });

    it('keeps float32 accuracy at κ = 1e6 near the mode, both signs of θ − μ (the statistic form cannot)', () => {
      const th = [0, 1e-8, -1e-8, 1e-4, -1e-4, 1e-3, -1e-3, 2.5e-3, -2.5e-3];
      const mus = [0, 1, -2];
      const rows = mus.flatMap((m) => th.map((d) => [1e6 * Math.cos(m), 1e6 * Math.sin(m), m + d]));
      const e = rows.map((r) => [Math.fround(r[0]), Math.fround(r[1])]);
      const t = rows.map((r) => Math.fround(r[2]));
      const got = tf.tidy(() =>
        values(vonMisesNllFromAngle(tf.tensor2d(e.flat(), [rows.length, 2]), tf.tensor1d(t), 'none')),
      );
      rows.forEach((_, i) => {
        const ref = refNllAngle(e[i][0], e[i][1], t[i]);
        expect(Math.abs(got[i] - ref)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(ref)));
      });
    });

    it('gradients w.r.t. η and θ match float64 central differences of the reference', () => {
      const w = ETA.map((_, i) => 0.5 + i / 10);
      const [ge, gt] = tf.tidy(() => {
        const wt = tf.tensor1d(w);
        const gs = tf.grads((e: tf.Tensor, th: tf.Tensor) =>
          tf.sum(tf.mul(vonMisesNllFromAngle(e, th, 'none'), wt)),
        )([eta(), theta()]);
        return [values(gs[0]), values(gs[1])];
      });
      ETA.forEach(([a0, b0], i) => {
        const a = Math.fround(a0);
        const b = Math.fround(b0);
        const th = Math.fround(THETA[i]);
        const h = 1e-5 * Math.max(1, Math.hypot(a, b));
        const d0 = (refNllAngle(a + h, b, th) - refNllAngle(a - h, b, th)) / (2 * h);
        const d1 = (refNllAngle(a, b + h, th) - refNllAngle(a, b - h, th)) / (2 * h);
        const ht = 1e-6;
        const dt = (refNllAngle(a, b, th + ht) - refNllAngle(a, b, th - ht)) / (2 * ht);
        expect(Math.abs(ge[2 * i] - w[i] * d0)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[i] * d0)));
        expect(Math.abs(ge[2 * i + 1] - w[i] * d1)).toBeLessThanOrEqual(
          1e-5 * Math.max(1, Math.abs(w[i] * d1)),
        );
        expect(Math.abs(gt[i] - w[i] * dt)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[i] * dt)));
      });
    });

    it('value and gradients match the tfjs-ops version (every reduction)', () => {
      const e = eta();
      const th = theta();
      for (const red of ['mean', 'sum', 'none'] as const) {
        const f = (fn: typeof vonMisesNllFromAngle) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(fn(a, b, red));
        const [vf, vp] = tf.tidy(() => [
          values(f(vonMisesNllFromAngle)(e, th)),
          values(f(vonMisesNllFromAnglePlain)(e, th)),
        ]);
        expect(Math.abs(vf[0] - vp[0])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(vp[0])));
        const gf = tf.grads(f(vonMisesNllFromAngle))([e, th]);
        const gp = tf.grads(f(vonMisesNllFromAnglePlain))([e, th]);
        for (let k = 0; k < 2; k++) {
          const scale = Math.max(1, ...Array.from(values(gp[k])).map(Math.abs));
          expect(maxAbsDiff(values(gf[k]), values(gp[k]))).toBeLessThanOrEqual(2e-5 * scale);
        }
        tf.dispose([...gf, ...gp]);
      }
      tf.dispose([e, th]);
    });

    it('rejects a θ that is not [batch]', () => {
      tf.tidy(() => {
        expect(() => vonMisesNllFromAngle(tf.zeros([4, 2]), tf.zeros([4, 2]))).toThrow(/theta/);
        expect(() => vonMisesNllFromAnglePlain(tf.zeros([4, 2]), tf.zeros([3]))).toThrow(ShapeError);
      });
    });
  });

  it('rejects bad shapes and reductions, naming the argument', () => {
    tf.tidy(() => {
      expect(() => vonMisesNll(tf.zeros([4, 3]), tf.zeros([4, 2]))).toThrow(ShapeError);
      expect(() => vonMisesNll(tf.zeros([4, 2]), tf.zeros([3, 2]))).toThrow(/'t'|t/);
      expect(() => vonMisesNll(tf.zeros([4, 2]), tf.zeros([4, 2]), 'avg' as 'mean')).toThrow(/reduction/);
    });
  });
});
