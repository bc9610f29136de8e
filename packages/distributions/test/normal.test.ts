import {
  Normal,
  normalLogPartition,
  normalMeanToNatural,
  normalNaturalToMean,
  softClampEta2,
} from '@gcvi/distributions';
import { createRng, initBackend, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fd, integrate1d, meanSe } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** Float64 reference log-density. */
const ref = (x: number, mu: number, sd: number) => -0.5 * ((x - mu) / sd) ** 2 - Math.log(sd) - 0.5 * LOG_2PI;
/** Float64 reference of the smooth η2 clamp (corner width 1). */
const softplus = (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
function refSoftClamp(v: number, lo: number, hi: number): number {
  const y = hi - softplus(hi - v);
  return lo + ((hi - lo) * softplus(y - lo)) / softplus(hi - lo);
}

describe('Normal', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('has broadcast batch shape and logProb matching the closed form (rel 1e-6)', () => {
    const d = new Normal(tf.tensor1d([0, 1, -2]), tf.tensor2d([[1], [0.5]]));
    expect(d.batchShape).toEqual([2, 3]);
    expect(d.eventShape).toEqual([]);
    const lp = d.logProb(tf.scalar(0.7)).arraySync() as number[][];
    [1, 0.5].forEach((s, i) => {
      [0, 1, -2].forEach((m, j) => {
        expectClose(lp[i]![j]!, ref(0.7, m, s), 1e-6 * Math.max(1, Math.abs(ref(0.7, m, s))));
      });
    });
  });

  it('integrates to 1 (trapezoid on ±12σ, tol 1e-5)', () => {
    for (const [m, s] of [
      [0, 1],
      [3, 0.01],
      [-50, 20],
    ] as const) {
      const d = new Normal(m, s);
      expectClose(
        integrate1d((x) => d.logProb(x), m - 12 * s, m + 12 * s, 20000),
        1,
        1e-5,
        `N(${m}, ${s})`,
      );
    }
  });

  it('gradients of logProb w.r.t. loc and scale match central differences of the float64 formula', () => {
    for (const [x, m, s] of [
      [0.3, -0.2, 0.7],
      [5, 1, 2],
      [-1, 0, 0.1],
    ] as const) {
      const [gl, gs] = tf
        .grads((loc: tf.Tensor, scale: tf.Tensor) => new Normal(loc, scale).logProb(tf.scalar(x)))([
          tf.scalar(m),
          tf.scalar(s),
        ])
        .map((g) => g.dataSync()[0] as number);
      const wl = fd((v) => ref(x, v, s), m);
      const ws = fd((v) => ref(x, m, v), s);
      expectClose(gl!, wl, 1e-4 * Math.max(1, Math.abs(wl)), 'd/dloc');
      expectClose(gs!, ws, 1e-4 * Math.max(1, Math.abs(ws)), 'd/dscale');
    }
  });

  it('fromNatural: gradients w.r.t. η match central differences; logProb equals the (μ, σ) form', () => {
    const refNat = (x: number, e1: number, e2: number) => ref(x, -e1 / (2 * e2), Math.sqrt(-1 / (2 * e2)));
    for (const [x, e1, e2] of [
      [0.4, 1.5, -2],
      [-3, -0.3, -0.1],
      [10, 40, -5],
    ] as const) {
      const [g1, g2] = tf
        .grads((a: tf.Tensor, b: tf.Tensor) => Normal.fromNatural(a, b).logProb(tf.scalar(x)))([
          tf.scalar(e1),
          tf.scalar(e2),
        ])
        .map((g) => g.dataSync()[0] as number);
      const w1 = fd((v) => refNat(x, v, e2), e1);
      const w2 = fd((v) => refNat(x, e1, v), e2);
      expectClose(g1!, w1, 2e-4 * Math.max(1, Math.abs(w1)), 'd/deta1');
      expectClose(g2!, w2, 2e-4 * Math.max(1, Math.abs(w2)), 'd/deta2');
      const lp = Normal.fromNatural(e1, e2).logProb(tf.scalar(x)).dataSync()[0]!;
      expectClose(lp, refNat(x, e1, e2), 1e-5 * Math.max(1, Math.abs(lp)));
    }
  });

  it('fromNatural: η2 ≥ 0 is a NumericalError naming eta2 unless clampEta2 is given', () => {
    expect(() => Normal.fromNatural(1, 0)).toThrow(NumericalError);
    expect(() => Normal.fromNatural(1, tf.tensor1d([-1, 0.5]))).toThrow(/eta2/);
    // clampWidth: 0 is the reference code's hard clamp: gradient zero where clamped (as torch.clamp)
    const hard = { clampEta2: [-1000, -0.1] as const, clampWidth: 0 };
    const d = Normal.fromNatural(tf.tensor1d([1, 1, 1]), tf.tensor1d([0.5, -5000, -2]), hard);
    const s = d.scale.dataSync();
    expectClose(s[0]!, Math.sqrt(1 / 0.2), 1e-5);
    expectClose(s[1]!, Math.sqrt(1 / 2000), 1e-7);
    expectClose(s[2]!, 0.5, 1e-6);
    const g = tf
      .grad((e2: tf.Tensor) => tf.sum(Normal.fromNatural(tf.ones([3]), e2, hard).logProb(tf.zeros([3]))))(
        tf.tensor1d([0.5, -5000, -2]),
      )
      .dataSync();
    expect(g[0]).toBe(0);
    expect(g[1]).toBe(0);
    expect(g[2]).not.toBe(0);
    expect(() => Normal.fromNatural(1, 1, { clampEta2: [-1, 1] })).toThrow(/clampEta2/);
  });

  it('clampEta2 (default smooth): inside (lo, hi), identity away from the bounds, gradient > 0 everywhere', () => {
    const [lo, hi] = [-1000, -0.1];
    const xs = [-3000, -1200, -1010, -1000, -995, -900, -100, -8, -2, -0.5, -0.1, 0, 0.5, 1, 5, 30];
    const x = tf.tensor1d(xs);
    const got = softClampEta2(x, lo, hi).dataSync();
    const grad = tf
      .grad((v: tf.Tensor) => tf.sum(softClampEta2(v, lo, hi)))(x)
      .dataSync();
    xs.forEach((v, i) => {
      const want = refSoftClamp(v, lo, hi);
      // inside [lo, hi); strictly above lo until e^{−(lo − η2)} underflows
      expect(want >= lo && want < hi && (v < -1020 || want > lo)).toBe(true);
      expectClose(got[i]!, want, 2e-7 * Math.abs(want) + 1e-6, `value at ${v}`);
      const dw = (refSoftClamp(v + 1e-4, lo, hi) - refSoftClamp(v - 1e-4, lo, hi)) / 2e-4;
      expectClose(grad[i]!, dw, 1e-3 * dw + 1e-9, `gradient at ${v}`);
      if (v > -1020) expect(grad[i]!).toBeGreaterThan(0);
      if (v >= -990 && v <= -8) expectClose(got[i]!, v, 1e-3, `identity at ${v}`);
    });
    expect(grad[11]).toBeGreaterThan(0.4); // η2 = 0: a zero-initialized last layer gets half a gradient
    tf.dispose(x);
  });

  it('natural parameterization from a zero-initialized last layer: the variance moves (hard clamp: frozen)', () => {
    const rng = createRng(11);
    const x = rng.normalTensor([64, 3]);
    const theta = tf.mul(rng.normalTensor([64]), 0.5);
    const run = (clampWidth?: number) => {
      const w = tf.variable(tf.zeros([3, 2]));
      const opt = tf.train.adam(1e-2);
      const variance = () =>
        tf.tidy(() => {
          const [e1, e2] = tf.unstack(tf.matMul(x, w), 1) as [tf.Tensor, tf.Tensor];
          return Normal.fromNatural(e1, e2, { clampEta2: [-1000, -0.1], clampWidth })
            .variance()
            .dataSync();
        });
      const before = variance();
      for (let step = 0; step < 5; step++) {
        opt.minimize(() =>
          tf.tidy(() => {
            const [e1, e2] = tf.unstack(tf.matMul(x, w), 1) as [tf.Tensor, tf.Tensor];
            const q = Normal.fromNatural(e1, e2, {
              clampEta2: [-1000, -0.1],
              clampWidth,
              validateArgs: false,
            });
            return tf.neg(tf.mean(q.logProb(theta))) as tf.Scalar;
          }),
        );
      }
      const after = variance();
      let moved = 0;
      for (let i = 0; i < before.length; i++)
        moved = Math.max(moved, Math.abs(after[i]! - before[i]!) / before[i]!);
      w.dispose();
      opt.dispose();
      return moved;
    };
    expect(run()).toBeGreaterThan(1e-2);
    expect(run(0)).toBe(0);
    tf.dispose([x, theta]);
  });

  it('exponential family: T, η, A, E[T]; ∇A = E[T]; natural ↔ mean round-trip', () => {
    const d = new Normal(tf.tensor1d([0.5, -2]), tf.tensor1d([1.5, 0.2]));
    const eta = d.naturalParameters();
    const m = d.meanParameters().arraySync() as number[][];
    // E[T] by quadrature
    [0.5, -2].forEach((mu, i) => {
      const sd = [1.5, 0.2][i]!;
      const n = 20000;
      let e1 = 0;
      let e2 = 0;
      for (let k = 0; k <= n; k++) {
        const x = mu - 12 * sd + (24 * sd * k) / n;
        const w = (k === 0 || k === n ? 0.5 : 1) * Math.exp(ref(x, mu, sd)) * ((24 * sd) / n);
        e1 += w * x;
        e2 += w * x * x;
      }
      expectClose(m[i]![0]!, e1, 1e-5 * Math.max(1, Math.abs(e1)));
      expectClose(m[i]![1]!, e2, 1e-5 * Math.max(1, Math.abs(e2)));
    });
    const gradA = tf
      .grad((e: tf.Tensor) => tf.sum(normalLogPartition(e)))(eta)
      .arraySync() as number[][];
    gradA.forEach((row, i) => {
      expectClose(row[0]!, m[i]![0]!, 1e-4 * Math.max(1, Math.abs(m[i]![0]!)));
      expectClose(row[1]!, m[i]![1]!, 1e-4 * Math.max(1, Math.abs(m[i]![1]!)));
    });
    // logProb = η·T − A + log h
    const x = tf.tensor1d([0.1, -1.9]);
    const viaEf = tf.sub(
      tf.add(tf.sum(tf.mul(eta, d.sufficientStatistic(x)), -1), d.logBaseMeasure(x)),
      d.logPartition(),
    );
    const lp = d.logProb(x).dataSync();
    viaEf.dataSync().forEach((v, i) => {
      expectClose(v, lp[i]!, 1e-4);
    });
    // round trips
    const back = normalMeanToNatural(normalNaturalToMean(eta)).dataSync();
    eta.dataSync().forEach((v, i) => {
      expectClose(back[i]!, v, 1e-4 * Math.max(1, Math.abs(v)));
    });
    const d2 = Normal.fromMeanParameters(d.meanParameters());
    expectClose(d2.scale.dataSync()[1]!, 0.2, 1e-4);
    expect(() => Normal.fromMeanParameters(tf.tensor1d([1, 0.5]))).toThrow(/m:/);
  });

  it('sampling: seeded, shape [n, ...batch], mean and variance within 4 standard errors', () => {
    const d = new Normal(tf.tensor1d([0, 3, -100]), tf.tensor1d([1, 0.01, 30]));
    const a = d.sample(20000, createRng(7).split('normal'));
    const b = d.sample(20000, createRng(7).split('normal'));
    expect(a.shape).toEqual([20000, 3]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const cols = tf.unstack(a, 1).map((c) => c.dataSync());
    [0, 3, -100].forEach((mu, j) => {
      const sd = [1, 0.01, 30][j]!;
      const [m, se] = meanSe(cols[j]!);
      expect(Math.abs(m - mu)).toBeLessThan(4 * se);
      const sq = Array.from(cols[j]!, (x) => (x - mu) ** 2);
      const [v, seV] = meanSe(sq);
      expect(Math.abs(v - sd * sd)).toBeLessThan(4 * seV);
    });
  });

  it('rsample is differentiable in loc and scale; sample carries no gradient', () => {
    const rng = createRng(3);
    const [gl, gs] = tf.grads((l: tf.Tensor, s: tf.Tensor) =>
      tf.mean(new Normal(l, s).rsample(1000, rng.split('a'))),
    )([tf.scalar(1), tf.scalar(2)]);
    expectClose(gl!.dataSync()[0]!, 1, 1e-4);
    const eps = createRng(3).split('a').normalTensor([1000]);
    expectClose(gs!.dataSync()[0]!, tf.mean(eps).dataSync()[0]!, 1e-5);
    const g0 = tf.grad((l: tf.Tensor) => tf.sum(new Normal(l, 1).sample(10, rng)))(tf.scalar(0));
    expect(g0.dataSync()[0]).toBe(0);
  });

  it('mean, mode, variance, entropy (entropy vs −∫ p log p on a grid)', () => {
    const d = new Normal(tf.tensor1d([1, 2]), 0.3);
    expect(Array.from(d.mean().dataSync())).toEqual([1, 2]);
    expect(Array.from(d.mode().dataSync())).toEqual([1, 2]);
    expectClose(d.variance().dataSync()[0]!, 0.09, 1e-7);
    const n = 20000;
    let h = 0;
    for (let k = 0; k <= n; k++) {
      const x = 1 - 3.6 + (7.2 * k) / n;
      const lp = ref(x, 1, 0.3);
      h -= (k === 0 || k === n ? 0.5 : 1) * Math.exp(lp) * lp * (7.2 / n);
    }
    expectClose(d.entropy().dataSync()[0]!, h, 1e-5);
  });

  it('bad input names the argument', () => {
    expect(() => new Normal(Number.NaN, 1)).toThrow(/loc/);
    expect(() => new Normal(0, Number.POSITIVE_INFINITY)).toThrow(/scale/);
    expect(() => new Normal(0, -1)).toThrow(NumericalError);
    expect(() => new Normal(0, tf.tensor1d([1, 0]))).toThrow(/scale/);
    expect(() => new Normal(tf.tensor1d([1, 2]), tf.tensor1d([1, 2, 3]))).toThrow(ShapeError);
    expect(() => new Normal(tf.tensor1d([1, 2]), tf.tensor1d([1, 2, 3]))).toThrow(/scale/);
    expect(() => new Normal(0, 1).sample(0, createRng(1))).toThrow(/\bn\b/);
    expect(() => new Normal(0, 1).sample(2.5, createRng(1))).toThrow(NumericalError);
    // validateArgs: false skips value checks (no sync reads), still builds
    expect(() => new Normal(0, -1, { validateArgs: false })).not.toThrow();
  });
});
