import { Normal, normalLogPartition, normalMeanToNatural, normalNaturalToMean } from '@gcvi/distributions';
import { createRng, initBackend, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fd, integrate1d, meanSe } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** Float64 reference log-density. */
const ref = (x: number, mu: number, sd: number) => -0.5 * ((x - mu) / sd) ** 2 - Math.log(sd) - 0.5 * LOG_2PI;

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
    const d = Normal.fromNatural(tf.tensor1d([1, 1, 1]), tf.tensor1d([0.5, -5000, -2]), {
      clampEta2: [-1000, -0.1],
    });
    const s = d.scale.dataSync();
    expectClose(s[0]!, Math.sqrt(1 / 0.2), 1e-5);
    expectClose(s[1]!, Math.sqrt(1 / 2000), 1e-7);
    expectClose(s[2]!, 0.5, 1e-6);
    // gradient through the clamp is zero where clamped (as torch.clamp)
    const g = tf
      .grad((e2: tf.Tensor) =>
        tf.sum(Normal.fromNatural(tf.ones([3]), e2, { clampEta2: [-1000, -0.1] }).logProb(tf.zeros([3]))),
      )(tf.tensor1d([0.5, -5000, -2]))
      .dataSync();
    expect(g[0]).toBe(0);
    expect(g[1]).toBe(0);
    expect(g[2]).not.toBe(0);
    expect(() => Normal.fromNatural(1, 1, { clampEta2: [-1, 1] })).toThrow(/clampEta2/);
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
