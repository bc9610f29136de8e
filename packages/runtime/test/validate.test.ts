import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  broadcastShapes,
  checkFinite,
  checkPositive,
  checkShape,
  checkTensorFinite,
  checkTensorPositive,
  initBackend,
  NumericalError,
  ShapeError,
} from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('validation helpers', () => {
  it('name the argument in every error', () => {
    expect(() => checkFinite('scale', Number.NaN)).toThrow(/scale: must be a finite number/);
    expect(() => checkPositive('scale', -1)).toThrow(NumericalError);
    expect(() => checkTensorFinite('loc', tf.tensor([1, Number.POSITIVE_INFINITY]))).toThrow(
      /loc: .*Infinity.*index 1/,
    );
    expect(() => checkTensorPositive('scale', tf.tensor([1, 0]))).toThrow(/scale/);
    expect(() => checkShape('x', tf.zeros([3, 2]), [null, 3])).toThrow(ShapeError);
    expect(() => checkShape('x', tf.zeros([3, 2]), [null, 3])).toThrow(
      /x: expected shape \[\*, 3\], got \[3, 2\]/,
    );
    expect(() => checkShape('x', tf.zeros([3, 2]), [null, 2])).not.toThrow();
  });

  it('broadcasts shapes like numpy', () => {
    expect(broadcastShapes([3, 1], [4])).toEqual([3, 4]);
    expect(broadcastShapes([], [2, 2])).toEqual([2, 2]);
    expect(() => broadcastShapes([3], [4], ['loc', 'scale'])).toThrow(/loc/);
  });
});
