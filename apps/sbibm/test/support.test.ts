/**
 * Leakage correction (`support: 'reject'`): draws outside the prior's box are rejected and redrawn.
 * Checked with a sampler whose truncated distribution is known in closed form.
 */
import { ConfigError, createRng, initBackend, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { drawsInSupport } from '../src/run.js';

beforeAll(async () => {
  await initBackend();
});

const normal2 = (n: number, rng: Rng) => rng.normalTensor([n, 2]);

describe('drawsInSupport', () => {
  it('keeps n draws inside the box, with the truncated distribution and its acceptance', () => {
    // N(0, I) in 2-D restricted to [0, 4] × [−1, 1]: acceptance (Φ(4) − ½)(Φ(1) − Φ(−1)) = 0.34133;
    // the first coordinate is a half-normal there, mean φ(0)/(Φ(4) − ½) = 0.79790.
    const box = { low: [0, -1], high: [4, 1] };
    const n = 20000;
    const { draws, acceptance } = drawsInSupport(normal2, n, 2, box, createRng(3), 'test');
    expect(draws.shape).toEqual([n, 2]);
    const v = draws.dataSync();
    let mean0 = 0;
    for (let i = 0; i < n; i++) {
      const a = v[2 * i] as number;
      const b = v[2 * i + 1] as number;
      expect(a >= 0 && a <= 4 && b >= -1 && b <= 1).toBe(true);
      mean0 += a / n;
    }
    // sd of the half-normal 0.6028: standard error of the mean 0.0043; 4 standard errors.
    expect(Math.abs(mean0 - 0.7979)).toBeLessThan(0.017);
    // binomial standard error of the acceptance over ≥ 58,000 draws ≤ 0.002; 4 standard errors.
    expect(Math.abs(acceptance - 0.34133)).toBeLessThan(0.008);
    draws.dispose();
  });

  it('without a box it passes the draws through; an acceptance below 1e-3 is an error naming the cell', () => {
    const free = drawsInSupport(normal2, 10, 2, null, createRng(1), 'free');
    expect(free.acceptance).toBe(1);
    expect(free.draws.shape).toEqual([10, 2]);
    free.draws.dispose();
    const far = { low: [8, 8], high: [9, 9] };
    const before = tf.memory().numTensors;
    expect(() => drawsInSupport(normal2, 100, 2, far, createRng(2), 'slcp_1000_flow observation 3')).toThrow(
      ConfigError,
    );
    expect(() => drawsInSupport(normal2, 100, 2, far, createRng(2), 'slcp_1000_flow observation 3')).toThrow(
      /slcp_1000_flow observation 3: only 0 of \d+ posterior draws lie inside the prior's support/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
