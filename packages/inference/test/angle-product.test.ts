import { VonMises } from '@gcvi/distributions';
import {
  amortize,
  expectedCoverage,
  gaussianDiag,
  productFamily,
  type Simulator,
  sbc,
  vonMisesFamily,
} from '@gcvi/inference';
import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await initBackend();
});

/**
 * θ = (angle a ∈ (0, 2π), real v): a ~ Uniform, v ~ N(0, 1); x = (cos φ, sin φ, v + ε) with
 * φ ~ VonMises(a, 4), ε ~ N(0, 0.5²). The exact posterior is in the product family:
 * a | x ~ VonMises(φ, 4) and v | x ~ N(0.8 x3, 0.2).
 */
const simulator: Simulator = {
  sample(n: number, rng: Rng) {
    const a = new Float32Array(n);
    const x = new Float32Array(n * 3);
    const v = rng.fillNormal(new Float32Array(n));
    for (let i = 0; i < n; i++) {
      a[i] = 2 * Math.PI * rng.uniform();
      const noise = new VonMises(0, 4);
      const phi = (a[i] as number) + (noise.sample(1, rng).dataSync()[0] as number);
      noise.dispose();
      x[i * 3] = Math.cos(phi);
      x[i * 3 + 1] = Math.sin(phi);
      x[i * 3 + 2] = (v[i] as number) + 0.5 * rng.normal();
    }
    const theta = tf.stack([tf.tensor1d(a), tf.tensor1d(v)], 1);
    return { theta, x: tf.tensor2d(x, [n, 3]) };
  },
};

describe('an angle and a real value (product family), trained with L_P', () => {
  it('recovers the exact posterior; SBC and HPD coverage are calibrated on the circle', async () => {
    const est = amortize({
      simulator,
      family: productFamily([vonMisesFamily(), gaussianDiag({ dim: 1 })]),
      seed: 5,
    });
    await est.train({ steps: 800, batchSize: 128, learningRate: 3e-3 });
    const post = est.posterior();
    // exact posterior at an observation with φ near ±π
    const xo = [Math.cos(3.1), Math.sin(3.1), 1.0];
    const m = post.mean(xo).dataSync();
    expect(
      Math.abs(Math.atan2(Math.sin((m[0] as number) - 3.1), Math.cos((m[0] as number) - 3.1))),
    ).toBeLessThan(0.1);
    expect(Math.abs((m[1] as number) - 0.8)).toBeLessThan(0.1);
    const test = simulator.sample(200, createRng(77));
    const pairs = { theta: test.theta as tf.Tensor, x: test.x as tf.Tensor };
    const r = sbc(post, { pairs, rng: createRng(78) });
    expect(r.circular).toEqual([true, false]);
    for (const d of r.dims) expect(d.withinBand).toBe(true);
    const cov = expectedCoverage(post, { pairs, rng: createRng(79), samples: 300 });
    cov.levels.forEach((c, k) => {
      expect(Math.abs(cov.coverage[k]! - c)).toBeLessThan(0.12);
    });
    post.dispose();
    est.dispose();
  });
});
