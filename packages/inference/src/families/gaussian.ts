import { Independent, MultivariateNormal, Normal, type SampleStream } from '@gcvi/distributions';
import * as tf from '@tensorflow/tfjs-core';
import type { Family, FamilyDistribution } from './types.js';
import { checkDim, checkEta, checkNonNegative, columns, negSoftplus, posSoftplus } from './util.js';

export interface GaussianDiagOptions {
  readonly dim: number;
  /**
   * η2 = −softplus(u) − `minPrecision`/2, so the precision 1/σ² = −2η2 is at least `minPrecision`
   * (default 1e-6). At u = 0 (a zero-initialized last layer) σ² = 1/(2 log 2 + minPrecision) ≈ 0.72.
   */
  readonly minPrecision?: number;
}

/**
 * Independent Gaussians in natural parameters: encoder outputs (η1, u) ∈ R^{2·dim},
 * η1 = μ/σ², η2 = −softplus(u) − minPrecision/2 = −1/(2σ²). An exponential family in natural
 * parameters (T(θ) = (θ, θ²) per coordinate): L_P is convex in (η1, η2).
 */
export function gaussianDiag(options: GaussianDiagOptions): Family {
  const dim = checkDim('gaussianDiag.dim', options?.dim);
  const minPrecision = checkNonNegative('gaussianDiag.minPrecision', options.minPrecision, 1e-6);
  const spec = { kind: 'gaussian-diag', dim, minPrecision };
  return {
    kind: spec.kind,
    spec,
    dim,
    eventShape: [dim],
    outputSize: 2 * dim,
    exponentialFamily: true,
    circular: new Array(dim).fill(false),
    paramSpecs: [],
    initParams: () => ({}),
    distribution(eta) {
      checkEta(spec.kind, eta, 2 * dim);
      const [eta1, eta2] = tf.tidy(() => [
        columns(eta, 0, dim),
        negSoftplus(columns(eta, dim, dim), minPrecision / 2),
      ]);
      const base = Normal.fromNatural(eta1 as tf.Tensor, eta2 as tf.Tensor, { validateArgs: false });
      return diagDistribution(base, [eta1 as tf.Tensor, eta2 as tf.Tensor]);
    },
  };
}

/** A FamilyDistribution over `[B, dim]` from a Normal with batch shape `[B, dim]`. */
export function diagDistribution(
  base: Normal,
  owned: tf.Tensor[],
): FamilyDistribution & { variance(): tf.Tensor } {
  const ind = new Independent(base, 1);
  return {
    batchShape: ind.batchShape,
    eventShape: ind.eventShape,
    logProb: (theta) => ind.logProb(theta),
    sample: (n, rng) => ind.sample(n, rng),
    rsample: (n: number, rng: SampleStream) => base.rsample(n, rng),
    mean: () => base.mean(),
    mode: () => base.mode(),
    variance: () => base.variance(),
    dispose() {
      base.dispose();
      tf.dispose(owned);
    },
  };
}

export interface GaussianFullOptions {
  readonly dim: number;
  /** Floor of the Cholesky factor's diagonal: Lᵢᵢ = softplus(u) + `minDiagonal` (default 1e-3). */
  readonly minDiagonal?: number;
}

/**
 * Full-covariance Gaussian in natural parameters: encoder outputs η1 = Λμ (dim numbers) and the
 * lower triangle of the precision's Cholesky factor L, Λ = L Lᵀ (dim·(dim+1)/2 numbers, row by
 * row; diagonal entries through softplus + floor, off-diagonal ones as they are). An exponential
 * family in natural parameters (T(θ) = (θ, θθᵀ), η2 = −½ L Lᵀ reached smoothly from any
 * output): L_P is convex in (η1, η2). The distribution is `MultivariateNormal` of
 * `@gcvi/distributions`.
 */
export function gaussianFull(options: GaussianFullOptions): Family {
  const dim = checkDim('gaussianFull.dim', options?.dim);
  const minDiagonal = checkNonNegative('gaussianFull.minDiagonal', options.minDiagonal, 1e-3);
  const spec = { kind: 'gaussian-full', dim, minDiagonal };
  const m = (dim * (dim + 1)) / 2;
  // Placement of the m triangle entries into the row-major d×d matrix, and which are diagonal.
  const place = new Float32Array(m * dim * dim);
  const isDiag = new Float32Array(m);
  let k = 0;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      place[k * dim * dim + i * dim + j] = 1;
      if (i === j) isDiag[k] = 1;
      k++;
    }
  }
  return {
    kind: spec.kind,
    spec,
    dim,
    eventShape: [dim],
    outputSize: dim + m,
    exponentialFamily: true,
    circular: new Array(dim).fill(false),
    paramSpecs: [],
    initParams: () => ({}),
    distribution(eta) {
      const b = checkEta(spec.kind, eta, dim + m);
      const [eta1, tril] = tf.tidy(() => {
        const raw = columns(eta, dim, m);
        const mask = tf.tensor1d(isDiag);
        const v = tf.add(tf.mul(raw, tf.sub(1, mask)), tf.mul(posSoftplus(raw, minDiagonal), mask));
        // matMul by a 0/1 placement matrix: differentiable everywhere (no gather/scatter gradient needed)
        const flat = tf.matMul(v, tf.tensor2d(place, [m, dim * dim]));
        return [columns(eta, 0, dim), tf.reshape(flat, [b, dim, dim])];
      }) as [tf.Tensor, tf.Tensor];
      const q = MultivariateNormal.fromNatural(eta1, tril, { validateArgs: false });
      return {
        batchShape: q.batchShape,
        eventShape: q.eventShape,
        logProb: (theta) => q.logProb(theta),
        sample: (n, rng) => q.sample(n, rng),
        rsample: (n, rng) => q.rsample(n, rng),
        mean: () => q.mean(),
        mode: () => q.mode(),
        dispose() {
          q.dispose();
          tf.dispose([eta1, tril]);
        },
      };
    },
  };
}
