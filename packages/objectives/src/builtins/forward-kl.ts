import type { Objective } from '@gcvi/objective-contract';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import {
  checkOnePerDraw,
  need,
  optionsObject,
  positiveIntOption,
  rejectUnknown,
} from '@gcvi/objective-utils';
import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export interface ForwardKlOptions {
  /** Simulated pairs per step; default: the `batchSize` given to `fit`. */
  readonly batchSize?: number;
}

const NAME = 'forward-kl';

/**
 * The expected forward KL, the paper's L_P (also NPE / FAVI / sleep-phase loss):
 * L_P(φ) = E_{p(θ, x)}[−log q(θ | f(x; φ))], estimated each step as −mean_i log q(θ_i | x_i) over
 * `batchSize` fresh pairs (θ_i, x_i) ~ p(θ) p(x | θ) from `problem.simulate`. Up to the constant
 * E_p[log p(θ | x)] it equals E_{p(x)} KL(p(θ | x) ‖ q(θ | x)).
 */
export const forwardKl: Objective<ForwardKlOptions> = {
  name: NAME,
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['simulator'],
  description: 'expected forward KL L_P: −mean log q(θ | x) over fresh simulated (θ, x) pairs',
  defaults: {},
  parseOptions(raw) {
    const o = optionsObject(NAME, raw);
    rejectUnknown(NAME, o, ['batchSize']);
    return o.batchSize === undefined ? {} : { batchSize: positiveIntOption(NAME, 'batchSize', o.batchSize) };
  },
  sampleBatch({ problem, rng, options, batchSize }) {
    need(NAME, problem, 'simulator');
    const n = options.batchSize ?? batchSize;
    const { theta, x } = problem.simulate!(n, rng);
    if (!theta || !x) throw new ConfigError('problem.simulate', 'must return { theta, x } tensors');
    if (theta.shape[0] !== n) throw new ShapeError('problem.simulate().theta', `[${n}, ...]`, theta.shape);
    if (x.shape[0] !== n) throw new ShapeError('problem.simulate().x', `[${n}, ...]`, x.shape);
    return { theta, x };
  },
  loss({ batch, q }) {
    return tf.tidy((): tf.Scalar => {
      const theta = batch.theta as tf.Tensor;
      const qx = q(batch.x as tf.Tensor);
      const lp = qx.logProb(theta);
      checkOnePerDraw(lp, theta, qx, theta.shape[0] ?? 1);
      return tf.neg(tf.mean<tf.Scalar>(lp));
    });
  },
};
