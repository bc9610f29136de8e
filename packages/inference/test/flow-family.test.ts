import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amortize, familyFromSpec, loadPosterior, nsfFamily } from '@gcvi/inference';
import { stepDivideLr } from '@gcvi/objectives';
import { ConfigError, createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactPosterior, linearGaussian } from './linear-gaussian.js';

const dir = mkdtempSync(join(tmpdir(), 'gcvi-flow-family-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BOX = { low: [-1, -2], high: [1, 0.5] };

/** A boxed 2-D flow family with far-from-identity random weights, and two distinct contexts. */
function setup() {
  const fam = nsfFamily({ dim: 2, contextDim: 3, layers: 3, bins: 6, hidden: 16, box: BOX, initScale: 1.5 });
  const params = fam.initParams(createRng(3));
  const eta = tf.tensor2d([
    [0.8, -1.2, 0.4],
    [-1.5, 0.3, 1.1],
  ]);
  return { fam, params, eta };
}

/** Midpoint grid over the box: points `[G², 2]`, cell area. */
function grid(g: number): { pts: Float32Array; area: number } {
  const pts = new Float32Array(g * g * 2);
  const wx = (BOX.high[0]! - BOX.low[0]!) / g;
  const wy = (BOX.high[1]! - BOX.low[1]!) / g;
  for (let i = 0; i < g; i++)
    for (let j = 0; j < g; j++) {
      pts[2 * (i * g + j)] = BOX.low[0]! + (i + 0.5) * wx;
      pts[2 * (i * g + j) + 1] = BOX.low[1]! + (j + 0.5) * wy;
    }
  return { pts, area: wx * wy };
}

describe('nsfFamily: a neural spline flow as a variational family', () => {
  it('per observation the density integrates to 1 over the box (grid), is −∞ outside, and draws match the grid moments of their own row', () => {
    const { fam, params, eta } = setup();
    const g = 200;
    const { pts, area } = grid(g);
    const q = fam.distribution(eta, params);
    // θ as [G², B, 2]: the same grid point for both observations.
    const both = new Float32Array(g * g * 4);
    for (let k = 0; k < g * g; k++) {
      both.set(pts.subarray(2 * k, 2 * k + 2), 4 * k);
      both.set(pts.subarray(2 * k, 2 * k + 2), 4 * k + 2);
    }
    const lp = tf.tidy(() => q.logProb(tf.tensor3d(both, [g * g, 2, 2])).arraySync() as number[][]);
    const mass = [0, 0];
    const m1 = [
      [0, 0],
      [0, 0],
    ];
    for (let k = 0; k < g * g; k++)
      for (let b = 0; b < 2; b++) {
        const p = Math.exp(lp[k]![b]!) * area;
        mass[b]! += p;
        m1[b]![0]! += p * pts[2 * k]!;
        m1[b]![1]! += p * pts[2 * k + 1]!;
      }
    console.log('nsf family grid mass', mass, 'means', m1);
    for (const m of mass) expect(Math.abs(m - 1)).toBeLessThan(0.01);
    // The two contexts give different densities (else the check below could not tell rows apart).
    expect(Math.abs(m1[0]![0]! - m1[1]![0]!) + Math.abs(m1[0]![1]! - m1[1]![1]!)).toBeGreaterThan(0.1);
    const outside = tf.tidy(
      () =>
        q
          .logProb(
            tf.tensor2d([
              [1.01, 0],
              [0, -2.5],
            ]),
          )
          .arraySync() as number[],
    );
    expect(outside).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    const n = 20000;
    const s = tf.tidy(() => q.sample(n, createRng(11)).arraySync() as number[][][]);
    expect(s.length).toBe(n);
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 2; c++) {
        let sum = 0;
        let sq = 0;
        for (let i = 0; i < n; i++) {
          const v = s[i]![b]![c]!;
          expect(v).toBeGreaterThan(BOX.low[c]!);
          expect(v).toBeLessThan(BOX.high[c]!);
          sum += v;
          sq += v * v;
        }
        const mean = sum / n;
        const se = Math.sqrt((sq / n - mean * mean) / n);
        expect(Math.abs(mean - m1[b]![c]!)).toBeLessThan(5 * se + 2e-3);
      }
    }
    q.dispose();
    eta.dispose();
    tf.dispose(Object.values(params));
  }, 600_000);

  it('spec round-trips through familyFromSpec; bad options name the field', () => {
    const { fam, params, eta } = setup();
    const back = familyFromSpec(JSON.parse(JSON.stringify(fam.spec)));
    const th = tf.tensor2d([
      [0.2, -1],
      [-0.5, 0.1],
    ]);
    const a = fam.distribution(eta, params).logProb(th).dataSync();
    const b = back.distribution(eta, params).logProb(th).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    // mode(): a draw of highest density, so at least as dense as the mean and as a fresh draw
    const q = fam.distribution(eta, params);
    const mode = q.mode();
    const mean = q.mean();
    expect(mode.shape).toEqual([2, 2]);
    expect(mean.shape).toEqual([2, 2]);
    const lm = q.logProb(mode).dataSync();
    const lmean = q.logProb(mean).dataSync();
    const ldraw = q.logProb(tf.reshape(q.sample(1, createRng(4)), [2, 2])).dataSync();
    for (let i = 0; i < 2; i++) {
      expect(lm[i]!).toBeGreaterThanOrEqual(lmean[i]!);
      expect(lm[i]!).toBeGreaterThanOrEqual(ldraw[i]!);
    }
    tf.dispose([mode, mean]);
    expect(() => nsfFamily({ dim: 0 })).toThrow(ConfigError);
    expect(() => nsfFamily({ dim: 2, box: { low: [0, 0], high: [1, -1] } })).toThrow(
      /nsfFamily\.box\.high\[1\]/,
    );
    expect(() => fam.distribution(tf.zeros([2, 4]), params)).toThrow(/\[batch, 3\]/);
    tf.dispose([eta, th, ...Object.values(params)]);
  });

  it('trains through amortize on the linear Gaussian model: KL(p ‖ q) < 0.05, tensors flat, save → load identical', async () => {
    const fam = nsfFamily({ dim: 2, contextDim: 4, layers: 2, bins: 8, hidden: 32 });
    const est = amortize({ simulator: linearGaussian, family: fam, seed: 2, encoder: { hiddenSizes: [32] } });
    await est.train({ steps: 5, batchSize: 64 });
    const before = tf.memory().numTensors;
    // Step-divided learning rate (3e-3, then /2, /4, /6 every 500 steps): Adam's noise floor at a
    // constant rate is what keeps a flow's KL up, not its capacity.
    await est.train({ steps: 2000, batchSize: 128, schedule: stepDivideLr(3e-3, 500) });
    expect(tf.memory().numTensors).toBe(before);
    const post = est.posterior();
    est.dispose();
    const kls = [
      [0.5, -0.5],
      [1.5, 1],
      [-1, 0.5],
    ].map((xo) => {
      const p = exactPosterior(xo);
      try {
        return tf.tidy(() => {
          const s = p.sample(4000, createRng(99));
          const lp = p.logProb(s).dataSync();
          const lq = post.logProb(s, tf.tensor1d(xo)).dataSync();
          let kl = 0;
          for (let i = 0; i < lp.length; i++) kl += (lp[i]! - lq[i]!) / lp.length;
          return kl;
        });
      } finally {
        p.dispose();
      }
    });
    console.log('nsf family KL(p‖q) on the linear Gaussian model', kls);
    for (const kl of kls) expect(kl).toBeLessThan(0.05);
    const path = join(dir, 'flow.gcvi');
    post.save(path);
    const back = loadPosterior(path);
    const th = createRng(5).normalTensor([20, 2]);
    const xs = createRng(6).normalTensor([20, 2]);
    expect(Array.from(back.logProb(th, xs).dataSync())).toEqual(Array.from(post.logProb(th, xs).dataSync()));
    expect(Array.from(back.sample(xs, 3, createRng(7)).dataSync())).toEqual(
      Array.from(post.sample(xs, 3, createRng(7)).dataSync()),
    );
    expect(post.mode([0, 0]).shape).toEqual([2]);
    expect(post.mean(xs).shape).toEqual([20, 2]);
    tf.dispose([th, xs]);
    post.dispose();
    back.dispose();
  }, 600_000);
});
