import { choleskyNumber, MultivariateNormal } from '@gcvi/distributions';
import { createRng, initBackend, NumericalError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

// A 3-d reference: mean and covariance, with every float64 quantity computed on the host.
const mu = [0.5, -1.2, 2.0];
const cov = [2.0, 0.6, -0.3, 0.6, 1.0, 0.2, -0.3, 0.2, 0.5];
const d = 3;

function inv3(a: number[]): number[] {
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = a as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const det = a0 * (a4 * a8 - a5 * a7) - a1 * (a3 * a8 - a5 * a6) + a2 * (a3 * a7 - a4 * a6);
  return [
    (a4 * a8 - a5 * a7) / det,
    (a2 * a7 - a1 * a8) / det,
    (a1 * a5 - a2 * a4) / det,
    (a5 * a6 - a3 * a8) / det,
    (a0 * a8 - a2 * a6) / det,
    (a2 * a3 - a0 * a5) / det,
    (a3 * a7 - a4 * a6) / det,
    (a1 * a6 - a0 * a7) / det,
    (a0 * a4 - a1 * a3) / det,
  ];
}
const det3 = (a: number[]) =>
  (a[0] as number) * ((a[4] as number) * (a[8] as number) - (a[5] as number) * (a[7] as number)) -
  (a[1] as number) * ((a[3] as number) * (a[8] as number) - (a[5] as number) * (a[6] as number)) +
  (a[2] as number) * ((a[3] as number) * (a[7] as number) - (a[4] as number) * (a[6] as number));

function refLogPdf(x: number[]): number {
  const p = inv3(cov);
  let q = 0;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++)
      q +=
        ((x[i] as number) - (mu[i] as number)) *
        (p[i * d + j] as number) *
        ((x[j] as number) - (mu[j] as number));
  return -0.5 * q - 0.5 * Math.log(det3(cov)) - 0.5 * d * Math.log(2 * Math.PI);
}

describe('MultivariateNormal (precision Cholesky, natural parameters)', () => {
  it('log-density matches the float64 closed form, from the covariance and from natural parameters', () => {
    const points = [
      [0, 0, 0],
      [0.5, -1.2, 2.0],
      [3, 1, -1],
      [-2, 0.5, 2.5],
    ];
    const a = MultivariateNormal.fromLocCovariance(mu, cov);
    const prec = inv3(cov);
    const l = choleskyNumber(prec, d);
    const eta1 = mu.map((_, i) => mu.reduce((s, m, j) => s + (prec[i * d + j] as number) * m, 0));
    const b = MultivariateNormal.fromNatural(tf.tensor1d(eta1), tf.tensor2d(Array.from(l), [d, d]));
    const lpA = tf.tidy(() => a.logProb(tf.tensor2d(points)).dataSync());
    const lpB = tf.tidy(() => b.logProb(tf.tensor2d(points)).dataSync());
    points.forEach((p, i) => {
      expectClose(
        lpA[i] as number,
        refLogPdf(p),
        2e-5 * Math.max(1, Math.abs(refLogPdf(p))),
        `fromLocCovariance ${i}`,
      );
      expectClose(
        lpB[i] as number,
        refLogPdf(p),
        2e-5 * Math.max(1, Math.abs(refLogPdf(p))),
        `fromNatural ${i}`,
      );
    });
    // mean, covariance and entropy in closed form
    const m = a.mean().dataSync();
    for (const [i, v] of mu.entries()) expectClose(m[i] as number, v, 1e-5, `mean ${i}`);
    const c = a.covariance().dataSync();
    for (const [i, v] of cov.entries()) expectClose(c[i] as number, v, 1e-5, `cov ${i}`);
    expectClose(
      a.entropy().dataSync()[0] as number,
      0.5 * d * (1 + Math.log(2 * Math.PI)) + 0.5 * Math.log(det3(cov)),
      1e-5,
      'entropy',
    );
    a.dispose();
    b.dispose();
  });

  it('logProb is the exponential-family form η·T(θ) − A(η) + log h', () => {
    const a = MultivariateNormal.fromLocCovariance(mu, cov);
    const prec = inv3(cov);
    const eta1 = mu.map((_, i) => mu.reduce((s, m, j) => s + (prec[i * d + j] as number) * m, 0));
    const x = [1, -0.5, 0.3];
    let t = 0;
    for (let i = 0; i < d; i++) {
      t += (eta1[i] as number) * (x[i] as number);
      for (let j = 0; j < d; j++)
        t += -0.5 * (prec[i * d + j] as number) * (x[i] as number) * (x[j] as number);
    }
    const A = a.logPartition().dataSync()[0] as number;
    const lp = tf.tidy(() => a.logProb(tf.tensor1d(x)).dataSync()[0] as number);
    expectClose(lp, t - A - 0.5 * d * Math.log(2 * Math.PI), 2e-5, 'exp-family form');
    a.dispose();
  });

  it('batched: broadcasts η1 over a shared factor and scores [n, B, d] values', () => {
    const l = tf.tensor2d(Array.from(choleskyNumber(inv3(cov), d)), [d, d]);
    const eta1 = tf.tensor2d([
      [0, 0, 0],
      [1, 2, 3],
    ]);
    const q = MultivariateNormal.fromNatural(eta1, l);
    expect(q.batchShape).toEqual([2]);
    expect(q.eventShape).toEqual([3]);
    const v = tf.zeros([4, 2, 3]);
    expect(q.logProb(v).shape).toEqual([4, 2]);
    q.dispose();
  });

  it('sample moments match the mean and covariance (20,000 draws)', () => {
    const a = MultivariateNormal.fromLocCovariance(mu, cov);
    const n = 20_000;
    const s = a.sample(n, createRng(5)).dataSync();
    const m = [0, 0, 0];
    for (let k = 0; k < n; k++)
      for (let i = 0; i < d; i++) m[i] = (m[i] as number) + (s[k * d + i] as number) / n;
    for (const [i, v] of mu.entries())
      expectClose(m[i] as number, v, 4 * Math.sqrt((cov[i * d + i] as number) / n), `mean ${i}`);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let c = 0;
        for (let k = 0; k < n; k++)
          c += ((s[k * d + i] as number) - (m[i] as number)) * ((s[k * d + j] as number) - (m[j] as number));
        c /= n - 1;
        // sd of a sample covariance ≈ sqrt((Σii Σjj + Σij²)/n)
        const se = Math.sqrt(
          ((cov[i * d + i] as number) * (cov[j * d + j] as number) + (cov[i * d + j] as number) ** 2) / n,
        );
        expectClose(c, cov[i * d + j] as number, 5 * se, `cov ${i}${j}`);
      }
    }
    a.dispose();
  });

  it('is differentiable in η1 and L: gradient of log p matches finite differences in float64', () => {
    const lRef = Array.from(choleskyNumber(inv3(cov), d));
    const eta1Ref = [0.3, -0.7, 1.1];
    const x = [0.2, -0.4, 1.5];
    const f = (e: number[], l: number[]) => {
      // log p = Σ log Lii − ½ ‖Lᵀx − L⁻¹η1‖² − (d/2) log 2π, in float64
      const w: number[] = [];
      for (let i = 0; i < d; i++) {
        let s = e[i] as number;
        for (let j = 0; j < i; j++) s -= (l[i * d + j] as number) * (w[j] as number);
        w.push(s / (l[i * d + i] as number));
      }
      let q = 0;
      let ld = 0;
      for (let i = 0; i < d; i++) {
        let y = 0;
        for (let j = 0; j < d; j++) y += (l[j * d + i] as number) * (x[j] as number);
        q += (y - (w[i] as number)) ** 2;
        ld += Math.log(l[i * d + i] as number);
      }
      return ld - 0.5 * q - 0.5 * d * Math.log(2 * Math.PI);
    };
    const g = tf.grads((e: tf.Tensor, l: tf.Tensor) => {
      const q = MultivariateNormal.fromNatural(e, l, { validateArgs: false });
      const lp = q.logProb(tf.tensor1d(x));
      return lp;
    });
    const lTensor = tf.tensor2d(lRef, [d, d]);
    const [ge, gl] = g([tf.tensor1d(eta1Ref), lTensor]);
    const h = 1e-6;
    for (let i = 0; i < d; i++) {
      const ep = [...eta1Ref];
      const em = [...eta1Ref];
      ep[i] = (ep[i] as number) + h;
      em[i] = (em[i] as number) - h;
      expectClose(ge!.dataSync()[i] as number, (f(ep, lRef) - f(em, lRef)) / (2 * h), 2e-4, `d/dη1_${i}`);
    }
    for (let k = 0; k < d * d; k++) {
      if (Math.floor(k / d) < k % d) continue; // upper triangle is zero and unused
      const lp = [...lRef];
      const lm = [...lRef];
      lp[k] = (lp[k] as number) + h;
      lm[k] = (lm[k] as number) - h;
      expectClose(
        gl!.dataSync()[k] as number,
        (f(eta1Ref, lp) - f(eta1Ref, lm)) / (2 * h),
        5e-4,
        `d/dL_${k}`,
      );
    }
  });

  it('a non-positive diagonal of the factor is one clear error', () => {
    expect(() =>
      MultivariateNormal.fromNatural(
        tf.zeros([2]),
        tf.tensor2d([
          [1, 0],
          [0.5, 0],
        ]),
      ),
    ).toThrow(NumericalError);
    expect(() => MultivariateNormal.fromLocCovariance([0, 0], [1, 2, 2, 1])).toThrow(/positive definite/);
  });
});
