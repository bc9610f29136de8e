import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createE1Trainer } from '../src/e1.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const LOG_2PI = Math.log(2 * Math.PI);

describe('createE1Trainer', () => {
  it('starts at the uniform NLL log 2π, reaches the exact NLL at width 256 in 300 steps, and q matches p on the circle', async () => {
    const t = createE1Trainer({ width: 256 });
    try {
      // f = 0 at init (last layer zero), so η = (1e-4, 1e-4): q is uniform up to O(1e-4).
      expect(Math.abs(t.initial.full - LOG_2PI)).toBeLessThan(1e-3);
      expect(t.initial.linear).toBe(t.initial.full);
      const r = await t.advance(300);
      expect(r.step).toBe(300);
      expect(r.evals.map((e) => e.step)).toEqual(Array.from({ length: 30 }, (_, i) => 10 * (i + 1)));
      expect(r.skipped).toEqual({ full: 0, linear: 0 });
      const last = r.evals.at(-1)!;
      expect(last).toEqual(t.testNll());
      // Exact NLL is the floor (up to test-set noise, shared by both sides); 0.02 ≈ the noise.
      for (const v of [last.full, last.linear]) {
        expect(v).toBeGreaterThan(t.exactNll - 0.02);
        expect(v).toBeLessThan(t.exactNll + 0.02);
      }
      // Densities on the circle: normalized, and q peaks near the exact mode after training.
      const phi = 2.5;
      const c = t.posterior(phi, 720);
      const h = (2 * Math.PI) / 720;
      expect(c.theta).toHaveLength(720);
      expect(Math.abs(c.theta[1]! - c.theta[0]! - h)).toBeLessThan(1e-12);
      for (const p of [c.exact, c.full, c.linear]) {
        // Midpoint rule on a smooth periodic density: exact to float32 rounding.
        expect(Math.abs(p.reduce((a, v) => a + v, 0) * h - 1)).toBeLessThan(1e-4);
      }
      const argmax = (p: number[]) => c.theta[p.indexOf(Math.max(...p))]!;
      expect(Math.abs(argmax(c.exact) - phi)).toBeLessThan(h);
      expect(Math.abs(argmax(c.full) - phi)).toBeLessThan(0.15);
      expect(Math.abs(argmax(c.linear) - phi)).toBeLessThan(0.15);
    } finally {
      await t.dispose();
    }
  });

  it('trains both models on the same batches (equal losses at step 1, where they coincide)', async () => {
    const t = createE1Trainer({ width: 64 });
    try {
      const r1 = await t.advance(1);
      // At φ0 the twin equals the network and has the same gradient: same batch ⇒ same loss.
      expect(r1.loss.linear).toBe(r1.loss.full);
      // Step 1 moved only the last layer (the first layer's gradient is zero while the last layer
      // is zero), and f is linear in the last layer, so at step 2 they still coincide (DESIGN §2 E1).
      const r2 = await t.advance(1);
      expect(r2.step).toBe(2);
      expect(Math.abs(r2.loss.linear - r2.loss.full)).toBeLessThan(1e-6);
      // From step 3 the network's first layer has moved: the two part.
      const r10 = await t.advance(8);
      expect(Math.abs(r10.loss.linear - r10.loss.full)).toBeGreaterThan(1e-4);
    } finally {
      await t.dispose();
    }
  });

  it('replays a seed exactly and differs across seeds', async () => {
    const run = async (seed: number) => {
      const t = createE1Trainer({ width: 64, seed });
      try {
        await t.advance(7);
        await t.advance(33);
        return t.testNll();
      } finally {
        await t.dispose();
      }
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(b).toEqual(a);
    expect(c.full).not.toBe(a.full);
  });

  it('keeps the tensor count flat while training and frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const t = createE1Trainer({ width: 64 });
    await t.advance(20);
    t.posterior(1);
    const during = tf.memory().numTensors;
    await t.advance(100);
    t.posterior(2);
    expect(tf.memory().numTensors).toBe(during);
    await t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad settings naming the field', () => {
    expect(() => createE1Trainer({ width: 0 })).toThrow(/width/);
    expect(() => createE1Trainer({ lr0: -1 })).toThrow(/lr0/);
    expect(() => createE1Trainer({ seed: 1.5 })).toThrow(/seed/);
  });

  it('stops at maxSteps', async () => {
    const t = createE1Trainer({ width: 16, maxSteps: 25 });
    try {
      const r = await t.advance(100);
      expect(r.step).toBe(25);
      expect(r.done).toBe(true);
      const again = await t.advance(5);
      expect(again.step).toBe(25);
      expect(again.evals).toEqual([]);
    } finally {
      await t.dispose();
    }
  });
});
