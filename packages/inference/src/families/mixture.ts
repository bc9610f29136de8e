import { Categorical, Independent, MixtureSameFamily, Normal } from '@gcvi/distributions';
import * as tf from '@tensorflow/tfjs-core';
import type { Family } from './types.js';
import { checkDim, checkEta, checkNonNegative, columns, posSoftplus } from './util.js';

export interface GaussianMixtureOptions {
  readonly dim: number;
  /** Number of components K. */
  readonly components: number;
  /** Floor of every component's standard deviation: σ = softplus(u) + `minScale` (default 1e-3). */
  readonly minScale?: number;
}

/**
 * Mixture density network: K diagonal Gaussian components. Encoder outputs: K logits, then K·dim
 * means, then K·dim scale inputs (σ = softplus(u) + minScale). The family owns one trainable
 * parameter, `locOffset` `[K, dim]` (drawn N(0, 1) at init), added to the component means: with a
 * zero-initialized last layer every component would otherwise start identical and, receiving
 * identical gradients, stay identical forever.
 *
 * Not an exponential family: L_P is not convex in the encoder outputs and the paper's guarantee
 * does not apply (use it for multimodal posteriors). `mode()` is the component mean of highest
 * mixture density (exact when components are well separated); `mean()` is Σ_k π_k μ_k.
 */
export function gaussianMixture(options: GaussianMixtureOptions): Family {
  const dim = checkDim('gaussianMixture.dim', options?.dim);
  const K = checkDim('gaussianMixture.components', options.components);
  const minScale = checkNonNegative('gaussianMixture.minScale', options.minScale, 1e-3);
  const spec = { kind: 'gaussian-mixture', dim, components: K, minScale };
  const outputSize = K + 2 * K * dim;
  return {
    kind: spec.kind,
    spec,
    dim,
    eventShape: [dim],
    outputSize,
    exponentialFamily: false,
    circular: new Array(dim).fill(false),
    paramSpecs: [{ name: 'locOffset', shape: [K, dim] }],
    initParams: (rng) => ({ locOffset: rng.normalTensor([K, dim]) }),
    distribution(eta, params) {
      const b = checkEta(spec.kind, eta, outputSize);
      const offset = params.locOffset;
      if (!offset) throw new Error("gaussian-mixture family: missing its parameter 'locOffset'");
      const [logits, loc, scale] = tf.tidy(() => [
        columns(eta, 0, K),
        tf.add(tf.reshape(columns(eta, K, K * dim), [b, K, dim]), offset),
        posSoftplus(tf.reshape(columns(eta, K + K * dim, K * dim), [b, K, dim]), minScale),
      ]) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const cat = new Categorical({ logits }, { validateArgs: false });
      const normal = new Normal(loc, scale, { validateArgs: false });
      const comps = new Independent(normal, 1); // batch [B, K], event [dim]
      const mix = new MixtureSameFamily(cat, comps);
      return {
        batchShape: mix.batchShape,
        eventShape: mix.eventShape,
        logProb: (theta) => mix.logProb(theta),
        sample: (n, rng) => mix.sample(n, rng),
        mean: () => tf.tidy(() => tf.sum(tf.mul(tf.expandDims(tf.softmax(logits, -1), -1), loc), 1)),
        mode: () =>
          tf.tidy(() => {
            // density of the mixture at each component mean: loc as [K, B, dim] values
            const lp = mix.logProb(tf.transpose(loc, [1, 0, 2])); // [K, B]
            const best = tf.argMax(lp, 0); // [B]
            const oh = tf.expandDims(tf.oneHot(best, K), -1); // [B, K, 1]
            return tf.sum(tf.mul(oh, loc), 1);
          }),
        dispose() {
          cat.dispose();
          normal.dispose();
          tf.dispose([logits, loc, scale]);
        },
      };
    },
  };
}
