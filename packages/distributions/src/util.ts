import { checkFinite, checkPositiveInt, checkTensorFinite, GcviError, NumericalError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/** A parameter as given: a number or a tensor. */
export type Param = number | tf.Tensor;

/**
 * Turn a parameter into a float32 tensor. Numbers are checked (when `validate`) and become scalars
 * recorded in `owned` so `dispose()` frees them; tensors are used as they are.
 */
export function toTensor(name: string, v: Param, validate: boolean, owned: tf.Tensor[]): tf.Tensor {
  if (typeof v === 'number') {
    if (validate) checkFinite(name, v);
    const t = tf.scalar(v, 'float32');
    owned.push(t);
    return t;
  }
  if (!(v instanceof tf.Tensor)) {
    throw new NumericalError(name, `must be a number or a tf.Tensor, got ${typeof v}`);
  }
  if (v.dtype !== 'float32') {
    const t = tf.cast(v, 'float32');
    owned.push(t);
    if (validate) checkTensorFinite(name, t);
    return t;
  }
  if (validate) checkTensorFinite(name, v);
  return v;
}

/** Check every element is ≥ 0 (sync read). */
export function checkTensorNonNegative(name: string, t: tf.Tensor): void {
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (!Number.isFinite(v) || v < 0) {
      throw new NumericalError(name, `must be finite and >= 0 everywhere, found ${v} at flat index ${i}`);
    }
  }
}

export function checkSampleCount(n: number): void {
  checkPositiveInt('n', n);
}

/** Identity in the forward pass, zero gradient: for draws that must not carry gradients. */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/** Thrown by `mean()`/`mode()`/`entropy()` where the quantity is undefined or has no closed form. */
export function notDefined(what: string, dist: string): GcviError {
  return new GcviError('E_NOT_DEFINED', `${what} is not defined (or has no closed form) for ${dist}`);
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const LOG_2PI = Math.log(2 * Math.PI);

export { detached, detachedCompare } from '@gcvi/kernels';
