import { Normal } from '@gcvi/distributions';
import type { Problem } from '@gcvi/objective-contract';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { importanceLogWeights, observedMinibatch, rsampleOrThrow } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('batch helpers', () => {
  it('observedMinibatch: options.batchSize, else the caller’s; the problem must have observed and logJoint', () => {
    const observed = tf.range(0, 40).reshape([40, 1]);
    const problem: Problem = { observed, logJoint: (z) => z };
    const ctx = { problem, rng: createRng(1), batchSize: 8, step: 0 };
    const a = observedMinibatch('o', { ...ctx, options: {} });
    const b = observedMinibatch('o', { ...ctx, options: { batchSize: 5 } });
    expect([a.x.shape, b.x.shape]).toEqual([
      [8, 1],
      [5, 1],
    ]);
    expect(() => observedMinibatch('o', { ...ctx, problem: { observed }, options: {} })).toThrow(
      /^problem\.logJoint: objective 'o' requires/,
    );
    expect(() => observedMinibatch('o', { ...ctx, problem: {}, options: {} })).toThrow(/^problem\.observed:/);
    tf.dispose([observed, a.x, b.x]);
  });

  it('importanceLogWeights is log p − log q with shapes checked; rsampleOrThrow names variational', () => {
    const q = new Normal(tf.tensor1d([0, 1]), tf.tensor1d([1, 2]));
    const z = tf.tensor2d([
      [0.5, -1],
      [2, 0.3],
      [-0.7, 1.5],
    ]); // [K = 3, B = 2]
    const problem: Problem = { logJoint: (t) => tf.mul(-0.5, tf.square(t)) };
    const { w, logQ } = importanceLogWeights(problem, q, z, tf.zeros([2, 1]));
    const zs = z.arraySync();
    const want = zs.map((row) =>
      row.map((v, b) => {
        const [mu, sd] = b === 0 ? [0, 1] : [1, 2];
        const lq = -0.5 * ((v - mu) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
        return -0.5 * v * v - lq;
      }),
    );
    const got = w.arraySync() as number[][];
    got.forEach((row, k) => {
      row.forEach((v, b) => {
        expect(Math.abs(v - (want[k]?.[b] as number))).toBeLessThan(1e-5);
      });
    });
    expect(logQ.shape).toEqual([3, 2]);
    const bad: Problem = { logJoint: () => tf.zeros([3, 1]) };
    expect(() => importanceLogWeights(bad, q, z, tf.zeros([2, 1]))).toThrow(
      /^problem\.logJoint\(z, x\): expected shape \[3, 2\]/,
    );
    expect(rsampleOrThrow('o', q, 4, createRng(1)).shape).toEqual([4, 2]);
    const noR = {
      batchShape: [2],
      eventShape: [],
      logProb: (v: tf.Tensor) => v,
      sample: () => tf.zeros([1]),
    };
    expect(() => rsampleOrThrow('o', noR, 4, createRng(1))).toThrow(
      /^variational: objective 'o' needs a reparameterizable q \(rsample\)$/,
    );
    tf.dispose([w, logQ, z]);
  });
});
