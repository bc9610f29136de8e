import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkOnePerDraw,
  checkSameShape,
  logMeanExp,
  minibatch,
  ObjectiveError,
  stopGradient,
} from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('tensor helpers', () => {
  it('minibatch draws distinct rows; the full set when size ≥ rows, without disposing the data', () => {
    const data = tf.range(0, 50).reshape([50, 1]);
    const mb = minibatch(data, 20, createRng(3));
    const rows = Array.from(mb.dataSync());
    expect(new Set(rows).size).toBe(20);
    const all = minibatch(data, 80, createRng(3));
    all.dispose();
    expect(Array.from(data.dataSync())).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => minibatch(data, 0, createRng(3))).toThrow(/batchSize: must be a positive integer, got 0/);
    expect(() => minibatch(tf.zeros([0, 1]), 3, createRng(3))).toThrow(
      /problem\.observed: must have at least one row/,
    );
    tf.dispose([data, mb]);
  });

  it('minibatch is uniform over rows: each of 10 rows is drawn with probability 3/10 (4 standard errors)', () => {
    const data = tf.range(0, 10).reshape([10, 1]);
    const counts = new Array<number>(10).fill(0);
    const rng = createRng(11);
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const mb = minibatch(data, 3, rng);
      for (const v of mb.dataSync()) counts[v as number] = (counts[v as number] as number) + 1;
      mb.dispose();
    }
    const p = 0.3;
    const se = Math.sqrt((trials * p * (1 - p)) as number);
    for (const c of counts) expect(Math.abs(c - trials * p)).toBeLessThan(4 * se);
    data.dispose();
  });

  it('logMeanExp is stable at extreme log-weights; stopGradient blocks gradients', () => {
    const w = tf.tensor2d([
      [-1e4, 1000],
      [-1e4 + Math.log(3), 1000],
    ]);
    const r = Array.from(logMeanExp(w, 0).dataSync());
    // log((e^a + 3 e^a)/2) = a + log 2
    expect((r[0] as number) - (-1e4 + Math.log(2))).toBeCloseTo(0, 2);
    expect(r[1]).toBeCloseTo(1000, 3);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stopGradient(tf.square(x)), x)))(tf.tensor1d([2, 3]));
    expect(Array.from(g.dataSync())).toEqual([4, 9]);
    tf.dispose([w, g]);
  });

  it('checkOnePerDraw and checkSameShape refuse broadcasting, naming the argument', () => {
    const q = { batchShape: [3], eventShape: [] };
    checkOnePerDraw(tf.zeros([3]), tf.zeros([3]), q, 3);
    const err = (() => {
      try {
        checkOnePerDraw(tf.zeros([3, 3]), tf.zeros([3, 1]), q, 3);
      } catch (e) {
        return e;
      }
    })() as ObjectiveError;
    expect(err).toBeInstanceOf(ObjectiveError);
    expect(err.code).toBe('E_SHAPE');
    expect(err.field).toBe('theta');
    expect(err.message).toMatch(
      /^theta: expected shape \[3\] .*must have shape \[3\].*has \[3, 3\].*got \[3, 1\]$/,
    );
    checkSameShape(tf.zeros([4, 2]), tf.zeros([4, 2]));
    expect(() => checkSameShape(tf.zeros([4, 1]), tf.zeros([4, 2]))).toThrow(
      /^problem\.logJoint\(z, x\): expected shape \[4, 2\].*got \[4, 1\]$/,
    );
  });
});
