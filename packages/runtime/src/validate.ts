import type * as tf from '@tensorflow/tfjs-core';
import { NumericalError, ShapeError } from './errors.js';

/** A number argument must be finite. Returns it for chaining. */
export function checkFinite(argument: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new NumericalError(argument, `must be a finite number, got ${String(value)}`);
  }
  return value;
}

/** A number argument must be finite and > 0. */
export function checkPositive(argument: string, value: number): number {
  checkFinite(argument, value);
  if (!(value > 0)) throw new NumericalError(argument, `must be > 0, got ${value}`);
  return value;
}

/** A positive integer (counts, sizes, steps). */
export function checkPositiveInt(argument: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new NumericalError(argument, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Check that every element of a tensor is finite (reads the tensor synchronously; meant for
 * argument validation at construction time, not for hot loops).
 */
export function checkTensorFinite(argument: string, t: tf.Tensor): void {
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      throw new NumericalError(argument, `must be finite everywhere, found ${v} at flat index ${i}`);
    }
  }
}

/** Check that every element of a tensor is > 0 (and finite). */
export function checkTensorPositive(argument: string, t: tf.Tensor): void {
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v) || !(v > 0)) {
      throw new NumericalError(argument, `must be finite and > 0 everywhere, found ${v} at flat index ${i}`);
    }
  }
}

/**
 * Check a tensor's shape. `expected` lists sizes; `null` accepts any size in that position.
 * Example: `checkShape('x', x, [null, 2])` accepts [n, 2].
 */
export function checkShape(argument: string, t: tf.Tensor, expected: ReadonlyArray<number | null>): void {
  const ok = t.shape.length === expected.length && expected.every((e, i) => e === null || e === t.shape[i]);
  if (!ok) {
    throw new ShapeError(
      argument,
      `[${expected.map((e) => (e === null ? '*' : String(e))).join(', ')}]`,
      t.shape,
    );
  }
}

/** Two shapes broadcast together (numpy rules); returns the broadcast shape or throws naming both. */
export function broadcastShapes(
  a: readonly number[],
  b: readonly number[],
  names: [string, string] = ['a', 'b'],
): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(names[0], `a shape that broadcasts with ${names[1]} [${b.join(', ')}]`, a);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}
