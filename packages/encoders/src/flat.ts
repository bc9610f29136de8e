import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { checkParams, numParams } from './params.js';
import type { NamedTensors, ParamSpec } from './types.js';

/**
 * All parameters as one 1-D float32 vector, in the order of `specs` (each tensor row-major).
 * Differentiable: gradients flow back to the named tensors.
 */
export function flatten(params: NamedTensors, specs: readonly ParamSpec[]): tf.Tensor1D {
  checkParams('params', params, specs);
  if (specs.length === 0) return tf.zeros([0]);
  return tf.tidy(() =>
    tf.concat(specs.map((s) => tf.reshape(params[s.name] as tf.Tensor, [-1]))),
  ) as tf.Tensor1D;
}

/** Inverse of `flatten`: cut a `[numParams(specs)]` vector into named tensors. Differentiable. */
export function unflatten(vector: tf.Tensor, specs: readonly ParamSpec[]): NamedTensors {
  const n = numParams(specs);
  if (vector.rank !== 1 || vector.shape[0] !== n) {
    throw new ShapeError('vector', `[${n}]`, vector.shape);
  }
  const out: NamedTensors = {};
  let offset = 0;
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    out[s.name] = tf.tidy(() => tf.reshape(tf.slice(vector, [offset], [size]), [...s.shape]));
    offset += size;
  }
  return out;
}
