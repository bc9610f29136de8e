import { initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasFusedKernel, VonMisesNll, vonMisesNll, vonMisesNllPlain } from '../src/index.js';
import { BACKENDS_UNDER_TEST, maxAbsDiff, values } from './helpers.js';

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

  it('rejects bad shapes and reductions, naming the argument', () => {
    tf.tidy(() => {
      expect(() => vonMisesNll(tf.zeros([4, 3]), tf.zeros([4, 2]))).toThrow(ShapeError);
      expect(() => vonMisesNll(tf.zeros([4, 2]), tf.zeros([3, 2]))).toThrow(/'t'|t/);
      expect(() => vonMisesNll(tf.zeros([4, 2]), tf.zeros([4, 2]), 'avg' as 'mean')).toThrow(/reduction/);
    });
  });
});
