import { hasRotatedNormalLogLik, rotatedNormalLogLik } from '@gcvi/kernels';
import { ConfigError, checkPositive, checkPositiveInt, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Simulator } from '../simulator.js';
import { checkGeneratorParams, type GeneratorParams, generateImages } from './generator.js';
import { rotateFlat, rotateFlatMany, rotateImages } from './rotate.js';

/**
 * The rotated-MNIST model of E3/E4: one shared angle θ ~ Uniform(0, 2π) per set, latents
 * z_i ~ Normal(0, I), x_i ~ Normal(rotate(image(z_i), θ), σ²) per pixel, image(z) = (G(z) + 1)/2
 * clamped to [0, 1], rotation counterclockwise with border padding (`rotateImages`).
 */
export interface RotatedMnistModelOptions {
  readonly generator: GeneratorParams;
  /** Images per set (1000 in E3, 100 in E4). */
  readonly nImages: number;
  /** Pixel noise sd σ (0.01). */
  readonly noiseSd?: number;
}

/** One simulated set: its angle (radians), latents `[n, d]`, and observed images `[n, 28, 28]`. */
export interface RotatedMnistSet {
  readonly theta: number;
  readonly z: tf.Tensor2D;
  readonly x: tf.Tensor3D;
}

/** `n` simulated sets as named tensors (the model's `sample`). */
export type RotatedMnistSets = {
  /** `[n]`: the angle of each set (radians, in [0, 2π)). */
  readonly theta: tf.Tensor1D;
  /** `[n, nImages, latentDim]`. */
  readonly z: tf.Tensor3D;
  /** `[n, nImages, 28, 28]`. */
  readonly x: tf.Tensor4D;
};

/** The angle of the fixed observed set: 260° counterclockwise. */
export const E3_TRUE_ANGLE = (260 * Math.PI) / 180;

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * The E3 model. As a `Simulator`, `sample(n, rng)` draws `n` sets of `nImages` images, each set
 * exactly as `simulate(rng)` would (same stream order), stacked.
 */
export interface RotatedMnistModel extends Simulator<RotatedMnistSets> {
  readonly nImages: number;
  readonly noiseSd: number;
  readonly latentDim: number;
  readonly generator: GeneratorParams;
  /** Unrotated images of latents: `[n, 28, 28]`. */
  images(z: tf.Tensor): tf.Tensor3D;
  /** `n` sets of `nImages` images: `theta` `[n]`, `z` `[n, nImages, d]`, `x` `[n, nImages, 28, 28]`. */
  sample(n: number, rng: Rng): RotatedMnistSets;
  /** One set: draw θ, z and x (`nImages` unless given). `theta` fixes the angle instead of drawing it. */
  simulate(rng: Rng, options?: { nImages?: number; theta?: number }): RotatedMnistSet;
  /** The fixed observed set: θ = 260°, z and noise from `rng`. */
  observedSet(rng: Rng): RotatedMnistSet;
  /** Σ_i Σ_pixels log Normal(x | rotate(image(z_i), θ), σ²), a scalar differentiable in θ and z. */
  logLikelihood(theta: tf.Tensor, z: tf.Tensor, x: tf.Tensor): tf.Scalar;
  /**
   * Log-likelihood for each of K angles `[K]` with fixed unrotated images `[n, 28, 28]` (the known-z
   * case of E4): `[K]`, differentiable in the angles.
   */
  logLikelihoodAngles(angles: tf.Tensor, images: tf.Tensor, x: tf.Tensor): tf.Tensor1D;
  /** log p(θ) + Σ log Normal(z; 0, I) + log-likelihood; log p(θ) = −log 2π on [0, 2π) (θ is taken mod 2π). */
  logJoint(theta: tf.Tensor, z: tf.Tensor, x: tf.Tensor): tf.Scalar;
}

export function rotatedMnistModel(options: RotatedMnistModelOptions): RotatedMnistModel {
  const { generator, nImages } = options;
  const noiseSd = options.noiseSd ?? 0.01;
  const latentDim = checkGeneratorParams(generator, 'generator');
  if (!Number.isInteger(nImages) || nImages <= 0) {
    throw new ConfigError('nImages', `must be a positive integer, got ${nImages}`);
  }
  if (!(noiseSd > 0) || !Number.isFinite(noiseSd))
    throw new ConfigError('noiseSd', `must be positive, got ${noiseSd}`);
  const logNormConst = -0.5 * LOG_2PI - Math.log(noiseSd);
  const images = (z: tf.Tensor) => generateImages(generator, z);
  const checkX = (x: tf.Tensor, n: number) => {
    if (x.rank !== 3 || x.shape[0] !== n || x.shape[1] !== 28 || x.shape[2] !== 28) {
      throw new ShapeError('x', `[${n}, 28, 28]`, x.shape);
    }
  };
  const checkZ = (z: tf.Tensor) => {
    if (z.rank !== 2 || z.shape[1] !== latentDim) throw new ShapeError('z', `[n, ${latentDim}]`, z.shape);
  };
  const simulate = (rng: Rng, opts: { nImages?: number; theta?: number } = {}): RotatedMnistSet => {
    const n = opts.nImages ?? nImages;
    const theta = opts.theta ?? 2 * Math.PI * rng.uniform();
    const z = rng.normalTensor([n, latentDim]) as tf.Tensor2D;
    const x = tf.tidy(() => {
      const rot = rotateFlat(tf.reshape(images(z), [n, 784]), theta, 28, 28);
      const noise = rng.normalTensor([n, 784], 0, noiseSd);
      return tf.reshape(tf.add(rot, noise), [n, 28, 28]) as tf.Tensor3D;
    });
    return { theta, z, x };
  };
  const logLikelihood = (theta: tf.Tensor, z: tf.Tensor, x: tf.Tensor): tf.Scalar => {
    checkZ(z);
    const n = z.shape[0] as number;
    checkX(x, n);
    return tf.tidy(() => {
      const mean = rotateFlat(tf.reshape(images(z), [n, 784]), theta, 28, 28);
      const r = tf.div(tf.sub(tf.reshape(x, [n, 784]), mean), noiseSd);
      return tf.add(tf.mul(-0.5, tf.sum(tf.square(r))), n * 784 * logNormConst) as tf.Scalar;
    });
  };
  const logLikelihoodAngles = (angles: tf.Tensor, imgs: tf.Tensor, x: tf.Tensor): tf.Tensor1D => {
    const n = imgs.shape[0] as number;
    if (imgs.rank !== 3 || imgs.shape[1] !== 28 || imgs.shape[2] !== 28) {
      throw new ShapeError('images', '[n, 28, 28]', imgs.shape);
    }
    checkX(x, n);
    if (hasRotatedNormalLogLik() && angles.rank === 1 && angles.dtype === 'float32') {
      // one fused pass per angle: no [K, n, 784] intermediates (K = 1,000 in E4's ELBO)
      return tf.tidy(() =>
        rotatedNormalLogLik(tf.reshape(imgs, [n, 784]), angles, tf.reshape(x, [n, 784]), noiseSd, 28, 28),
      );
    }
    return tf.tidy(() => {
      const mean = rotateFlatMany(tf.reshape(imgs, [n, 784]), angles, 28, 28); // [K, n, 784]
      const r = tf.div(tf.sub(tf.reshape(x, [1, n, 784]), mean), noiseSd);
      return tf.add(tf.mul(-0.5, tf.sum(tf.square(r), [1, 2])), n * 784 * logNormConst) as tf.Tensor1D;
    });
  };
  const sample = (n: number, rng: Rng): RotatedMnistSets => {
    checkPositiveInt('n', n);
    const thetas: number[] = [];
    const sets: RotatedMnistSet[] = [];
    try {
      for (let j = 0; j < n; j++) {
        const s = simulate(rng);
        sets.push(s);
        thetas.push(s.theta);
      }
      return {
        theta: tf.tensor1d(thetas, 'float32'),
        z: tf.stack(sets.map((s) => s.z)) as tf.Tensor3D,
        x: tf.stack(sets.map((s) => s.x)) as tf.Tensor4D,
      };
    } finally {
      for (const s of sets) tf.dispose([s.z, s.x]);
    }
  };
  return {
    nImages,
    noiseSd,
    latentDim,
    generator,
    images,
    sample,
    simulate,
    observedSet: (rng) => simulate(rng, { theta: E3_TRUE_ANGLE }),
    logLikelihood,
    logLikelihoodAngles,
    logJoint: (theta, z, x) =>
      tf.tidy(() => {
        const ll = logLikelihood(theta, z, x);
        const prior = tf.mul(-0.5, tf.add(tf.sum(tf.square(z)), z.size * LOG_2PI));
        return tf.add(tf.add(ll, prior), -LOG_2PI) as tf.Scalar;
      }),
  };
}

/** Draws of the known-latent simulator (E4): `theta` `[n]`, `x` `[n, nImages, 28, 28]`. */
export type RotatedSets = {
  readonly theta: tf.Tensor1D;
  readonly x: tf.Tensor4D;
};

/**
 * E4's simulator: the unrotated images are known (`[nImages, 28, 28]`); each of the `n` sets draws
 * θ ~ Uniform(0, 2π) and x = rotate(images, θ) + Normal(0, noiseSd²) per pixel.
 */
export function rotatedSetsSimulator(
  images: tf.Tensor,
  options: { readonly noiseSd?: number } = {},
): Simulator<RotatedSets> {
  if (images.rank !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28) {
    throw new ShapeError('images', '[nImages, 28, 28]', images.shape);
  }
  const noiseSd = checkPositive('noiseSd', options.noiseSd ?? 0.01);
  const m = images.shape[0] as number;
  return {
    sample(n, rng) {
      checkPositiveInt('n', n);
      const thetas: number[] = [];
      const xs: tf.Tensor[] = [];
      try {
        for (let j = 0; j < n; j++) {
          const th = 2 * Math.PI * rng.uniform();
          thetas.push(th);
          xs.push(tf.tidy(() => tf.add(rotateImages(images, th), rng.normalTensor([m, 28, 28], 0, noiseSd))));
        }
        return { theta: tf.tensor1d(thetas, 'float32'), x: tf.stack(xs) as tf.Tensor4D };
      } finally {
        tf.dispose(xs);
      }
    },
  };
}
