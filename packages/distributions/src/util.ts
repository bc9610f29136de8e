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

/**
 * Evaluate `fn` (comparisons, logical ops) on tensors that may be on the gradient tape, with the
 * result cut off from it: tfjs registers no gradient for Less/Greater/LogicalAnd, so a mask for
 * `tf.where` built from differentiated tensors must not be recorded.
 */
export function detached(fn: (...xs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
  const f = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, -1) as tf.Tensor[];
    (args[args.length - 1] as tf.GradSaveFunc)(xs);
    return {
      value: fn(...xs),
      gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((t) => tf.zerosLike(t)),
    };
  }) as unknown as (...xs: tf.Tensor[]) => tf.Tensor;
  return f(...inputs);
}

const COMPARE = {
  less: tf.less,
  lessEqual: tf.lessEqual,
  greater: tf.greater,
  greaterEqual: tf.greaterEqual,
} as const;

/** `a op b` as a mask carrying no gradient (see `detached`). */
export function detachedCompare(op: keyof typeof COMPARE, a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
  if (typeof b === 'number') return detached((x) => COMPARE[op](x, b), a);
  return detached((x, y) => COMPARE[op](x as tf.Tensor, y as tf.Tensor), a, b);
}
