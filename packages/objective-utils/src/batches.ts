import type { BatchContext, LossContext, Problem, VariationalDistribution } from '@gcvi/objective-contract';
import * as tf from '@tensorflow/tfjs-core';
import { configError } from './errors.js';
import { need } from './options.js';
import { checkSameShape, minibatch } from './tensors.js';

/**
 * `sampleBatch` of an objective that fits observed data: `{ x }`, a minibatch of
 * `problem.observed` of `options.batchSize` rows (default: the caller's `batchSize`). The problem
 * must provide `observed` and `logJoint` (errors name the missing one).
 */
export function observedMinibatch(name: string, ctx: BatchContext<unknown>): { x: tf.Tensor } {
  const { problem, rng, batchSize } = ctx;
  need(name, problem, 'observed');
  need(name, problem, 'logJoint');
  const own = (ctx.options as { readonly batchSize?: number } | undefined)?.batchSize;
  return { x: minibatch(problem.observed as tf.Tensor, own ?? batchSize, rng) };
}

/** `K` reparameterized draws of `q`; an error naming `variational` when q has no `rsample`. */
export function rsampleOrThrow(
  name: string,
  q: VariationalDistribution,
  K: number,
  rng: Parameters<VariationalDistribution['sample']>[1],
): tf.Tensor {
  if (typeof q.rsample !== 'function') {
    throw configError('variational', `objective '${name}' needs a reparameterizable q (rsample)`);
  }
  return q.rsample(K, rng);
}

/**
 * Importance log-weights w = log p(z, x) − log q(z | x) for draws `z` `[K, B, ...]` of `q` (=
 * q(x)): `{ w, logQ }`, both `[K, B]`. `problem.logJoint(z, x)` must have the shape of
 * `q.logProb(z)` (no broadcasting; the error names it).
 */
export function importanceLogWeights(
  problem: Problem,
  q: VariationalDistribution,
  z: tf.Tensor,
  x: tf.Tensor,
): { w: tf.Tensor; logQ: tf.Tensor } {
  const logQ = q.logProb(z);
  const logJoint = (problem.logJoint as NonNullable<Problem['logJoint']>)(z, x);
  checkSameShape(logJoint, logQ);
  return { w: tf.sub(logJoint, logQ), logQ };
}

/**
 * The log-weights of `K` reparameterized draws for the minibatch `ctx.batch.x` (as drawn by
 * `observedMinibatch`): z ~ q(· | x) by `rsample`, w = log p(z, x) − log q(z | x), `[K, B]`,
 * differentiable in the parameters of q. Call it inside the loss's `tf.tidy`.
 */
export function reparameterizedLogWeights(name: string, ctx: LossContext<unknown>, K: number): tf.Tensor {
  const x = ctx.batch.x as tf.Tensor;
  const q = ctx.q(x);
  return importanceLogWeights(ctx.problem, q, rsampleOrThrow(name, q, K, ctx.rng), x).w;
}
