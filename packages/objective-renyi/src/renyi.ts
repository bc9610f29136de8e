import type { Objective } from '@gcvi/objective-contract';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import {
  finiteOption,
  observedMinibatch,
  optionsObject,
  positiveIntOption,
  rejectUnknown,
  reparameterizedLogWeights,
} from '@gcvi/objective-utils';
import * as tf from '@tensorflow/tfjs-core';

export interface RenyiOptions {
  /**
   * Order α of the Rényi divergence, as in Li & Turner (2016): α → 1 is the ELBO (α = 1 is
   * computed exactly as the ELBO), α = 0 is the importance-weighted bound (IWBO). α > 1 gives
   * looser lower bounds; α < 0 is accepted but gives an upper bound of log p(x) as K → ∞, whose
   * maximization does not target the posterior (use it for evaluation only). Default 0.5.
   */
  readonly alpha: number;
  /** Reparameterized samples per observation (default 10). With K = 1 every α gives the ELBO. */
  readonly K: number;
  /** Observations per minibatch; default: the `batchSize` given to `fit`. */
  readonly batchSize?: number;
}

const NAME = 'renyi';

/**
 * 1 where |x| < 0.1, else 0, with a zero gradient (tfjs cannot differentiate through the
 * comparison that `tf.where` would need).
 */
const smallMask = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return {
    value: tf.cast(tf.less(tf.abs(x), 0.1), 'float32'),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  };
});

/** mask · a + (1 − mask) · b */
function blend(mask: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(mask, a), tf.mul(tf.sub(1, mask), b));
}

/**
 * exp(x) − 1 accurate to float32 for small |x| (a Taylor polynomial for |x| < 0.1, where
 * `exp(x) − 1` would cancel), exp(x) − 1 elsewhere. tfjs backends compute expm1 as exp(x) − 1.
 */
function expm1(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const s = tf.clipByValue(x, -0.1, 0.1);
    // s (1 + s/2 (1 + s/3 (1 + s/4 (1 + s/5 (1 + s/6)))))
    let p = tf.add(1, tf.div(s, 6));
    for (const k of [5, 4, 3, 2]) p = tf.add(1, tf.mul(tf.div(s, k), p));
    const series = tf.mul(s, p);
    return blend(smallMask(x), series, tf.sub(tf.exp(x), 1));
  });
}

/** log(1 + x) accurate to float32 for small |x| (alternating series for |x| < 0.1), x > −1. */
function log1p(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const s = tf.clipByValue(x, -0.1, 0.1);
    // Σ_{k=1..8} (−1)^{k+1} s^k / k, by Horner
    let p = tf.scalar(-1 / 8) as tf.Tensor;
    for (let k = 7; k >= 1; k--) p = tf.add((k % 2 === 1 ? 1 : -1) / k, tf.mul(s, p));
    const series = tf.mul(s, p);
    return blend(smallMask(x), series, tf.log(tf.add(1, x)));
  });
}

/**
 * The Monte Carlo variational Rényi bound of log-weights `w` along `axis` (the K samples):
 *
 *     L̂_α = 1/(1−α) · log( (1/K) Σ_k exp((1−α) w_k) )      (α ≠ 1)
 *     L̂_1 = (1/K) Σ_k w_k                                   (the ELBO)
 *
 * computed as m + (1/β) log1p(mean(expm1(β (w − m)))) with β = 1 − α and m the max (β > 0) or min
 * (β < 0) of w, so that β (w − m) ≤ 0: no overflow for large |w|, and no cancellation for α
 * close to 1 (where the result tends continuously to the ELBO).
 */
export function renyiBound(w: tf.Tensor, alpha: number, axis = 0): tf.Tensor {
  return tf.tidy(() => {
    const beta = 1 - alpha;
    if (beta === 0) return tf.mean(w, axis);
    const m = beta > 0 ? tf.max(w, axis, true) : tf.min(w, axis, true);
    const inner = tf.mean(expm1(tf.mul(tf.sub(w, m), beta)), axis);
    return tf.add(tf.squeeze(m, [axis]), tf.div(log1p(inner), beta));
  });
}

/**
 * The variational Rényi (VR) bound of Li & Turner (2016), "Rényi Divergence Variational
 * Inference": for each observation x of a minibatch, K reparameterized draws z_k ~ q(· | x),
 * w_k = log p(z_k, x) − log q(z_k | x), and the loss is −mean over observations of L̂_α(w)
 * (see `renyiBound`). For K → ∞, L̂_α → log p(x) − D_α(q ‖ p(· | x)).
 */
export const renyi: Objective<RenyiOptions> = {
  name: NAME,
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['observed', 'logJoint', 'rsample'],
  description:
    'negative variational Rényi bound of order alpha (alpha = 1: ELBO, alpha = 0: IWBO), K samples',
  defaults: { alpha: 0.5, K: 10 },
  parseOptions(raw) {
    const o = optionsObject(NAME, raw);
    rejectUnknown(NAME, o, ['alpha', 'K', 'batchSize']);
    const alpha = finiteOption(NAME, 'alpha', o.alpha ?? 0.5);
    const K = positiveIntOption(NAME, 'K', o.K ?? 10);
    return o.batchSize === undefined
      ? { alpha, K }
      : { alpha, K, batchSize: positiveIntOption(NAME, 'batchSize', o.batchSize) };
  },
  sampleBatch: (ctx) => observedMinibatch(NAME, ctx),
  loss(ctx) {
    return tf.tidy((): tf.Scalar => {
      const w = reparameterizedLogWeights(NAME, ctx, ctx.options.K); // [K, B]
      const { options } = ctx;
      return tf.neg(tf.mean<tf.Scalar>(renyiBound(w, options.alpha, 0)));
    });
  },
};
