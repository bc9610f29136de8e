import type { Problem, RandomStream, VariationalDistribution } from '@gcvi/objective-contract';
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from '../src/index.js';

/**
 * A minimal univariate Normal q for the fit-loop tests (event shape []); the conformance suite
 * itself uses @gcvi/distributions.
 */
export function tinyNormal(mean: tf.Tensor, logSd: tf.Tensor): VariationalDistribution {
  const half = 0.5 * Math.log(2 * Math.PI);
  return {
    batchShape: mean.shape,
    eventShape: [],
    logProb: (v) =>
      tf.tidy(() => {
        const z = tf.div(tf.sub(v, mean), tf.exp(logSd));
        return tf.sub(tf.sub(tf.mul(-0.5, tf.square(z)), logSd), half);
      }),
    sample: (n, rng) =>
      tf.tidy(() => stopGradient(tf.add(mean, tf.mul(tf.exp(logSd), rng.normalTensor([n, ...mean.shape]))))),
    rsample: (n, rng) =>
      tf.tidy(() => tf.add(mean, tf.mul(tf.exp(logSd), rng.normalTensor([n, ...mean.shape])))),
  };
}

/** θ ~ N(0, 1), x | θ ~ N(θ, 1); x is [n, 1], θ is [n]. */
export function conjugateProblem(observed?: tf.Tensor): Problem {
  return {
    simulate(n: number, rng: RandomStream) {
      return tf.tidy(() => {
        const theta = rng.normalTensor([n]);
        const x = tf.reshape(tf.add(theta, rng.normalTensor([n])), [n, 1]);
        return { theta, x };
      });
    },
    observed,
    logJoint(theta: tf.Tensor, x: tf.Tensor) {
      return tf.tidy(() => {
        const c = Math.log(2 * Math.PI);
        const xr = tf.reshape(x, [-1]);
        const prior = tf.mul(-0.5, tf.add(tf.square(theta), c));
        const lik = tf.mul(-0.5, tf.add(tf.square(tf.sub(xr, theta)), c));
        return tf.add(prior, lik);
      });
    },
  };
}

/** Linear-Gaussian q: mean = a·x + b, log sd = c·x + d, x of shape [B, 1]. */
export function linearParams(): Record<string, tf.Variable> {
  return tf.tidy(() => ({
    a: tf.variable(tf.scalar(0.1), true),
    b: tf.variable(tf.scalar(0.3), true),
    c: tf.variable(tf.scalar(0), true),
    d: tf.variable(tf.scalar(0), true),
  }));
}

export function linearQ(p: Readonly<Record<string, tf.Variable>>, x: tf.Tensor): VariationalDistribution {
  const xr = tf.reshape(x, [-1]);
  const mean = tf.add(tf.mul(p.a!, xr), p.b!);
  const logSd = tf.add(tf.mul(p.c!, xr), p.d!);
  return tinyNormal(mean, logSd);
}

export async function snapshot(
  params: Readonly<Record<string, tf.Variable>>,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(params)) out[k] = Array.from(await v.data());
  return out;
}
