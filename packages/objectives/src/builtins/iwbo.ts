import type { Objective } from '@gcvi/objective-contract';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import {
  importanceLogWeights,
  logMeanExp,
  observedMinibatch,
  optionsObject,
  positiveIntOption,
  rejectUnknown,
  stopGradient,
} from '@gcvi/objective-utils';
import * as tf from '@tensorflow/tfjs-core';

export interface IwboOptions {
  /** Importance particles per observation (default 10). */
  readonly K: number;
  /** Observations per minibatch; default: the `batchSize` given to `fit`. */
  readonly batchSize?: number;
}

const NAME = 'iwbo';

/**
 * The negative importance-weighted bound (IWAE): for each observation x_b of a minibatch, K
 * particles z_k ~ q(· | x_b), w_k = log p(z_k, x_b) − log q(z_k | x_b), and the loss is
 * −mean_b log( (1/K) Σ_k exp(w_k) ). K = 1 is the ELBO; the bound tightens to log p(x) as K grows.
 *
 * Particles are reparameterized (`rsample`) when q offers it. Otherwise they are plain draws and
 * the loss carries the score-function term: it is lme(w) + stopgrad(lme(w)) · (S − stopgrad(S)) with
 * S = Σ_k log q(z_k), which has the same value and an unbiased gradient (higher variance).
 */
export const iwbo: Objective<IwboOptions> = {
  name: NAME,
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['observed', 'logJoint'],
  description: 'negative IWBO: −mean over observations of log-mean-exp of K importance log-weights',
  defaults: { K: 10 },
  parseOptions(raw) {
    const o = optionsObject(NAME, raw);
    rejectUnknown(NAME, o, ['K', 'batchSize']);
    const K = o.K === undefined ? 10 : positiveIntOption(NAME, 'K', o.K);
    return o.batchSize === undefined
      ? { K }
      : { K, batchSize: positiveIntOption(NAME, 'batchSize', o.batchSize) };
  },
  sampleBatch: (ctx) => observedMinibatch(NAME, ctx),
  loss({ batch, q, problem, options, rng }) {
    return tf.tidy((): tf.Scalar => {
      const x = batch.x as tf.Tensor;
      const qx = q(x);
      if (typeof qx.rsample === 'function') {
        const { w } = importanceLogWeights(problem, qx, qx.rsample(options.K, rng), x); // [K, B]
        return tf.neg(tf.mean<tf.Scalar>(logMeanExp(w, 0)));
      }
      const z = stopGradient(qx.sample(options.K, rng)); // plain draws carry no pathwise gradient
      const { w, logQ: lq } = importanceLogWeights(problem, qx, z, x);
      const lme = logMeanExp(w, 0); // [B]
      const s = tf.sum(lq, 0); // [B]
      const surrogate = tf.add(lme, tf.mul(stopGradient(lme), tf.sub(s, stopGradient(s))));
      return tf.neg(tf.mean<tf.Scalar>(surrogate));
    });
  },
};
