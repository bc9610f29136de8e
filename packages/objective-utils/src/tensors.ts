import type { RandomStream } from '@gcvi/objective-contract';
import * as tf from '@tensorflow/tfjs-core';
import { configError, shapeError } from './errors.js';

/**
 * A minibatch of `size` rows of `observed`, drawn without replacement (partial Fisher–Yates with
 * `rng.uniform()`). When `size` ≥ the number of rows, the whole data set (a clone that shares its
 * storage, so disposing it leaves `observed` intact).
 */
export function minibatch(observed: tf.Tensor, size: number, rng: RandomStream): tf.Tensor {
  const n = observed.shape[0] ?? 0;
  if (n === 0) throw configError('problem.observed', 'must have at least one row');
  if (!Number.isInteger(size) || size <= 0)
    throw configError('batchSize', `must be a positive integer, got ${size}`);
  if (size >= n) return tf.clone(observed);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng.uniform() * (n - i));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return tf.tidy(() => tf.gather(observed, tf.tensor1d(idx.subarray(0, size), 'int32')));
}

/** `x` in the forward pass, zero gradient in the backward pass (tfjs has no stop_gradient op). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}

/** log( mean_k exp(w_k) ) along `axis`, computed stably. */
export function logMeanExp(w: tf.Tensor, axis = 0): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.logSumExp(w, axis), Math.log(w.shape[axis] as number)));
}

/**
 * `q(x).logProb(theta)` must hold one log-density per draw: shape `[n]`. Standard broadcasting
 * turns e.g. a von Mises of batch shape `[n]` evaluated at `theta` of shape `[n, 1]` into an
 * `[n, n]` table whose mean is a different (wrong) loss; refuse it, naming `theta` and the shapes.
 */
export function checkOnePerDraw(
  lp: tf.Tensor,
  theta: tf.Tensor,
  q: { readonly batchShape: readonly number[]; readonly eventShape: readonly number[] },
  n: number,
): void {
  if (lp.rank === 1 && lp.shape[0] === n) return;
  const want = [...(q.batchShape ?? []), ...(q.eventShape ?? [])];
  throw shapeError(
    'theta',
    `[${want.join(', ')}] (q(x) has batch shape [${(q.batchShape ?? []).join(', ')}] and event shape [${(q.eventShape ?? []).join(', ')}]; q(x).logProb(theta) must have shape [${n}], one value per draw, but has [${lp.shape.join(', ')}] after broadcasting)`,
    theta.shape,
  );
}

/**
 * Log-weights log p(z, x) − log q(z | x) must not broadcast: `problem.logJoint(z, x)` must have the
 * shape of `q(x).logProb(z)` (`[K, ...batchShape]`), one value per draw.
 */
export function checkSameShape(logJoint: tf.Tensor, logQ: tf.Tensor): void {
  if (logJoint.rank === logQ.rank && logJoint.shape.every((d, i) => d === logQ.shape[i])) return;
  throw shapeError(
    'problem.logJoint(z, x)',
    `[${logQ.shape.join(', ')}], the shape of q(x).logProb(z) (one value per draw z; no broadcasting)`,
    logJoint.shape,
  );
}
