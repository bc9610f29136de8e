import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/** Per-feature affine scaling of observations: x' = (x − mean) / std; both `[...xShape]`. */
export interface InputScaling {
  readonly mean: tf.Tensor;
  readonly std: tf.Tensor;
}

/**
 * Learn the scaling from a pilot batch `[N, ...xShape]`: the mean and standard deviation of every
 * feature over the N draws. A feature whose standard deviation is below `minStd` (a constant
 * feature) keeps std 1, so it is only centred.
 */
export function learnScaling(x: tf.Tensor, minStd = 1e-8): InputScaling {
  if (x.rank < 2 || (x.shape[0] as number) < 2) {
    throw new ConfigError('standardize', `needs a pilot batch [N >= 2, ...], got [${x.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    const sd = tf.sqrt(variance);
    const std = tf.where(tf.less(sd, minStd), tf.onesLike(sd), sd);
    return { mean: tf.keep(mean), std: tf.keep(std) };
  });
}

/** Apply a scaling (or none) to a batch `[B, ...xShape]`. */
export function standardizeInput(x: tf.Tensor, scaling: InputScaling | null): tf.Tensor {
  if (scaling === null) return tf.clone(x);
  return tf.tidy(() => tf.div(tf.sub(x, scaling.mean), scaling.std));
}
