import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AmortizedPosterior, amortize, gaussianFull, loadPosterior } from '@gcvi/inference';
import { ConfigError, createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactPosterior, linearGaussian } from './linear-gaussian.js';

const dir = mkdtempSync(join(tmpdir(), 'gcvi-inference-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** KL(p ‖ q) at x_o by Monte Carlo over 4,000 exact posterior draws (standard error ≲ 0.003 here). */
function klAt(post: AmortizedPosterior, xo: number[]): number {
  const p = exactPosterior(xo);
  try {
    return tf.tidy(() => {
      const s = p.sample(4000, createRng(99));
      const lp = p.logProb(s).dataSync();
      const lq = post.logProb(s, tf.tensor1d(xo)).dataSync();
      let kl = 0;
      for (let i = 0; i < lp.length; i++) kl += ((lp[i] as number) - (lq[i] as number)) / lp.length;
      return kl;
    });
  } finally {
    p.dispose();
  }
}

// Test points, x_o = 0 (sbi's) included; the prior predictive of x has sd ≈ 1.2 per coordinate.
const XO = [
  [0, 0],
  [1, -1],
  [2, 0.5],
];

describe('amortize → train → posterior on the linear Gaussian model (exact posterior known)', () => {
  it('fresh simulations every step (L_P): KL(p ‖ q) < 0.05 at every x_o, tensors flat, save → load identical', async () => {
    const est = amortize({ simulator: linearGaussian, family: gaussianFull({ dim: 2 }), seed: 1 });
    await est.train({ steps: 20, batchSize: 64 }); // builds the variables
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const r = await est.train({
      steps: 1500,
      batchSize: 128,
      onProgress: (p) => progress.push(p.step),
      progressEvery: 500,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.regime).toBe('fresh');
    expect(r.steps).toBe(1500);
    expect(progress).toEqual([500, 1000, 1500]);
    const post = est.posterior();
    const kls = XO.map((xo) => klAt(post, xo));
    console.log('fresh regime KL(p‖q) at x_o', XO, kls);
    for (const kl of kls) expect(kl).toBeLessThan(0.05);
    // The posterior object is independent of later training and of the estimator.
    est.dispose();
    const path = join(dir, 'lg.gcvi');
    post.save(path);
    const back = loadPosterior(path);
    const th = createRng(5).normalTensor([50, 2]);
    const xs = createRng(6).normalTensor([50, 2]);
    expect(Array.from(back.logProb(th, xs).dataSync())).toEqual(Array.from(post.logProb(th, xs).dataSync()));
    expect(Array.from(back.sample(xs, 3, createRng(7)).dataSync())).toEqual(
      Array.from(post.sample(xs, 3, createRng(7)).dataSync()),
    );
    // shapes for a single observation
    expect(post.sample([0, 0], 10, createRng(8)).shape).toEqual([10, 2]);
    expect(post.logProb([0.1, 0.2], [0, 0]).shape).toEqual([]);
    expect(post.mode([0, 0]).shape).toEqual([2]);
    expect(post.mean(xs).shape).toEqual([50, 2]);
    post.dispose();
    back.dispose();
  });

  it('fixed simulation budget with epochs, a validation split and early stopping: KL < 0.05, best epoch kept', async () => {
    const est = amortize({ simulator: linearGaussian, family: gaussianFull({ dim: 2 }), seed: 2 });
    const epochs: number[] = [];
    const r = await est.train({
      simulations: 4000,
      batchSize: 100,
      validationFraction: 0.1,
      earlyStopping: { patience: 5 },
      maxEpochs: 40,
      onProgress: (p) => {
        if (p.epoch !== undefined) epochs.push(p.epoch);
      },
    });
    expect(r.regime).toBe('budget');
    expect(r.simulations).toBe(4000);
    expect(r.validationLoss).toHaveLength(r.epochs!);
    expect(epochs).toEqual(Array.from({ length: r.epochs! }, (_, i) => i + 1));
    const v = r.validationLoss!;
    expect(Math.min(...v)).toBe(v[r.bestEpoch! - 1]);
    if (r.stoppedEarly) expect(r.epochs! - r.bestEpoch!).toBe(5);
    else expect(r.epochs).toBe(40);
    console.log('budget regime: epochs', r.epochs, 'best', r.bestEpoch, 'stopped early', r.stoppedEarly);
    const post = est.posterior();
    const kls = XO.map((xo) => klAt(post, xo));
    console.log('budget regime KL(p‖q) at x_o', XO, kls);
    for (const kl of kls) expect(kl).toBeLessThan(0.05);
    post.dispose();
    est.dispose();
  });

  it('early stopping: on a tiny budget the validation loss stops improving, training stops `patience` epochs after the best', async () => {
    const est = amortize({
      simulator: linearGaussian,
      family: gaussianFull({ dim: 2 }),
      encoder: { hiddenSizes: [128, 128] },
      seed: 4,
    });
    const r = await est.train({
      simulations: 150,
      batchSize: 15,
      earlyStopping: { patience: 3 },
      maxEpochs: 300,
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochs! - r.bestEpoch!).toBe(3);
    expect(r.epochs!).toBeLessThan(300);
    const v = r.validationLoss!;
    expect(v.slice(r.bestEpoch!).every((x) => x >= v[r.bestEpoch! - 1]!)).toBe(true);
    est.dispose();
  });

  it('bad input is one clear error naming the field', async () => {
    const est = amortize({ simulator: linearGaussian, family: gaussianFull({ dim: 2 }), theta: 'params' });
    await expect(est.train({ steps: 5 })).rejects.toThrow(/no tensor under key 'params'.*keys: theta, x/);
    const est2 = amortize({ simulator: linearGaussian, family: gaussianFull({ dim: 3 }) });
    await expect(est2.train({ steps: 5 })).rejects.toThrow(/\[1000, 3\]/);
    const est3 = amortize({ simulator: linearGaussian, family: gaussianFull({ dim: 2 }) });
    await expect(est3.train({ steps: 5, simulations: 100 })).rejects.toThrow(ConfigError);
    expect(() => est3.posterior()).toThrow(/train the estimator first/);
  });

  it('an abort signal stops training and rejects with its reason', async () => {
    const est = amortize({ simulator: linearGaussian, family: gaussianFull({ dim: 2 }), seed: 3 });
    const ac = new AbortController();
    const reason = new Error('stop now');
    let steps = 0;
    const run = est.train({
      steps: 10_000,
      batchSize: 16,
      progressEvery: 10,
      onProgress: (p) => {
        steps = p.step;
        if (p.step >= 30) ac.abort(reason);
      },
      signal: ac.signal,
    });
    await expect(run).rejects.toBe(reason);
    expect(steps).toBe(30);
    est.dispose();
  });
});
