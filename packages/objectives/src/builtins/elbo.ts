import type { Objective } from '@gcvi/objective-contract';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import {
  observedMinibatch,
  optionsObject,
  positiveIntOption,
  rejectUnknown,
  reparameterizedLogWeights,
  stopGradient,
} from '@gcvi/objective-utils';
import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export type ElboWeighting = 'mean' | 'softmax';

export interface ElboOptions {
  /** Reparameterized samples per observation (default 1). */
  readonly K: number;
  /**
   * 'mean' (default): the ELBO, loss = −mean_k w_k. 'softmax': the weighting of the E2 reference
   * code, loss = −Σ_k stopgrad(softmax(w))_k w_k (see the README).
   */
  readonly weighting: ElboWeighting;
  /** Observations per minibatch; default: the `batchSize` given to `fit`. */
  readonly batchSize?: number;
}

const NAME = 'elbo';

/**
 * The negative evidence lower bound on observed data. For a minibatch x_1..x_B of
 * `problem.observed` and K reparameterized draws z_k ~ q(· | x_b) (`rsample`), the log-weights are
 * w_kb = log p(z_kb, x_b) − log q(z_kb | x_b), and the loss is −mean_b mean_k w_kb (an unbiased
 * estimate of −mean_b ELBO(x_b)).
 *
 * With `weighting: 'softmax'` the loss is −mean_b Σ_k stopgrad(softmax_k(w_·b)) w_kb: its value is a
 * self-normalized average of the log-weights (not a bound), and its gradient equals the
 * reparameterized gradient of the IWBO with the same K draws. This is what the E2 reference code
 * calls its ELBO; it is kept as an option so that experiment can be reproduced.
 */
export const elbo: Objective<ElboOptions> = {
  name: NAME,
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['observed', 'logJoint', 'rsample'],
  description: 'negative ELBO with K reparameterized samples per observation (weighting mean | softmax)',
  defaults: { K: 1, weighting: 'mean' },
  parseOptions(raw) {
    const o = optionsObject(NAME, raw);
    rejectUnknown(NAME, o, ['K', 'weighting', 'batchSize']);
    const K = o.K === undefined ? 1 : positiveIntOption(NAME, 'K', o.K);
    const weighting = o.weighting === undefined ? 'mean' : o.weighting;
    if (weighting !== 'mean' && weighting !== 'softmax') {
      throw new ConfigError(
        `${NAME}.options.weighting`,
        `must be 'mean' or 'softmax', got ${JSON.stringify(weighting)}`,
      );
    }
    const out: ElboOptions = { K, weighting };
    return o.batchSize === undefined
      ? out
      : { ...out, batchSize: positiveIntOption(NAME, 'batchSize', o.batchSize) };
  },
  sampleBatch: (ctx) => observedMinibatch(NAME, ctx),
  loss(ctx) {
    const { options } = ctx;
    return tf.tidy((): tf.Scalar => {
      const w = reparameterizedLogWeights(NAME, ctx, options.K); // [K, B]
      if (options.weighting === 'mean') return tf.neg(tf.mean<tf.Scalar>(w));
      const weights = stopGradient(tf.softmax(tf.transpose(w))); // [B, K], softmax over k
      return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(weights, tf.transpose(w)), 1)));
    });
  },
};
