/**
 * E2 "amortized clustering": a shifted Gaussian mixture (McNamara, Loper, Regier 2024, §5.2).
 *
 *   S ~ Normal(0, priorShiftSd²)
 *   Z_k | S ~ Normal(μ_k + S, centreSd²),            k = 1..K   (μ = -20, -10, 0, 10, 20)
 *   X_i | Z ~ (1/K) Σ_k Normal(Z_k, obsSd²),          i = 1..nPoints
 *
 * Latents are packed as θ = (Z_1, …, Z_K, S) — `[n, K + 1]` — and a data set as `x: [n, nPoints, 1]`
 * (a set of scalar points, the shape a Set Transformer reads).
 */

import type { Rng, Seed } from '@gcvi/runtime';
import {
  ConfigError,
  checkFinite,
  checkPositive,
  checkPositiveInt,
  createRng,
  ShapeError,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Simulator } from './simulator.js';

export interface ClusteringOptions {
  /** Points per data set (the paper: 1,000). */
  readonly nPoints?: number;
  /** Unshifted centre locations μ_k (the paper: -20, -10, 0, 10, 20). */
  readonly means?: readonly number[];
  /** Prior sd of the shift S (the paper: 100). */
  readonly priorShiftSd?: number;
  /** Sd of each centre Z_k around μ_k + S (the paper: 0.5). */
  readonly centreSd?: number;
  /** Sd of each observation around its centre (the paper: 0.1). */
  readonly obsSd?: number;
}

/** Resolved configuration of a clustering simulator. */
export interface ClusteringConfig {
  readonly nPoints: number;
  readonly means: readonly number[];
  readonly priorShiftSd: number;
  readonly centreSd: number;
  readonly obsSd: number;
}

/** Joint draws as named tensors (leading dimension = number of data sets). */
export type ClusteringPairs = {
  /** `[n, K + 1]`: Z_1..Z_K then S. */
  readonly theta: tf.Tensor2D;
  /** `[n, nPoints, 1]`: the observed points. */
  readonly x: tf.Tensor3D;
};

/** Joint draws with the centres and the shift also as separate tensors. */
export interface ClusteringDraw extends ClusteringPairs {
  /** `[n, K]`: the centres (a copy of `theta[:, :K]`). */
  readonly Z: tf.Tensor2D;
  /** `[n]`: the shift (a copy of `theta[:, K]`). */
  readonly S: tf.Tensor1D;
}

/** Plain-array draws, for code that works on the JS side (float64). */
export interface ClusteringDrawArrays {
  /** Length n·(K+1), row-major `[n, K + 1]`. */
  readonly theta: Float64Array;
  /** Length n·nPoints, row-major `[n, nPoints]`. */
  readonly x: Float64Array;
  /** Component of every point, length n·nPoints. */
  readonly component: Int32Array;
}

/** One fixed observed data set of an E2 replicate. */
export interface ClusteringReplicate {
  readonly seed: Seed;
  /** The true shift (fixed, 100 by default). */
  readonly S: number;
  /** The true centres Z_1..Z_K, drawn once given S. */
  readonly Z: readonly number[];
  /** `[1, K + 1]`: the true θ. */
  readonly theta: tf.Tensor2D;
  /** `[1, nPoints, 1]`: the observed data set. */
  readonly x: tf.Tensor3D;
}

/** The E2 problem: a `Simulator` of `{ theta, x }` plus its log joint and observed replicates. */
export interface ClusteringSimulator extends Simulator<ClusteringPairs> {
  readonly config: ClusteringConfig;
  /** Number of mixture components K. */
  readonly nComponents: number;
  /** Size of θ: K + 1. */
  readonly thetaSize: number;
  /**
   * `n` joint draws (θ = (Z, S), X) from the prior and the model: exactly `{ theta, x }`, the shape
   * of `Problem.simulate` (a fit loop disposes both).
   */
  sample(n: number, rng: Rng): ClusteringPairs;
  /**
   * @deprecated The same function as `sample` (kept while callers move to `sample`; it still
   * accepts any stream with `uniform` and `normal`, such as the contract's `RandomStream`).
   */
  simulate(n: number, rng: Pick<Rng, 'uniform' | 'normal'>): ClusteringPairs;
  /** As `sample`, plus `Z: [n, K]` and `S: [n]` as separate tensors (the caller disposes all four). */
  simulateNamed(n: number, rng: Rng): ClusteringDraw;
  /** The same draws as float64 arrays (no tensors). */
  simulateArrays(n: number, rng: Rng, fixedShift?: number): ClusteringDrawArrays;
  /**
   * log p(θ, x) = log p(S) + Σ_k log p(Z_k | S) + Σ_i log (1/K) Σ_k N(X_i; Z_k, obsSd²).
   * `theta`: `[K', B, K+1]` (K' draws for each of B data sets) or `[B, K+1]`; `x`: `[B, nPoints, 1]`
   * (or `[B, nPoints]`). Returns `[K', B]` (or `[B]`). Differentiable in θ; the mixture term is a
   * max-shifted log-sum-exp, so centres far from the data give large negative, finite values.
   */
  logJoint(theta: tf.Tensor, x: tf.Tensor): tf.Tensor;
  /**
   * The fixed observed data set of the replicate `seed`: S fixed (default 100), Z and X drawn once
   * from a stream derived from the seed. Same seed → same data on every backend.
   */
  observedReplicate(seed: Seed, options?: { readonly S?: number }): ClusteringReplicate;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function resolve(options: ClusteringOptions): ClusteringConfig {
  const nPoints = checkPositiveInt('nPoints', options.nPoints ?? 1000);
  const means = options.means ?? [-20, -10, 0, 10, 20];
  if (!Array.isArray(means) || means.length === 0) {
    throw new ConfigError('means', 'must be a non-empty array of numbers');
  }
  means.forEach((m, i) => {
    checkFinite(`means[${i}]`, m);
  });
  return {
    nPoints,
    means: [...means],
    priorShiftSd: checkPositive('priorShiftSd', options.priorShiftSd ?? 100),
    centreSd: checkPositive('centreSd', options.centreSd ?? 0.5),
    obsSd: checkPositive('obsSd', options.obsSd ?? 0.1),
  };
}

/** The E2 simulator with the paper's defaults (override any field). */
export function clusteringSimulator(options: ClusteringOptions = {}): ClusteringSimulator {
  const config = resolve(options);
  const K = config.means.length;
  const D = K + 1;
  const N = config.nPoints;
  const { means, priorShiftSd, centreSd, obsSd } = config;

  function simulateArrays(
    n: number,
    rng: Pick<Rng, 'uniform' | 'normal'>,
    fixedShift?: number,
  ): ClusteringDrawArrays {
    checkPositiveInt('n', n);
    if (fixedShift !== undefined) checkFinite('S', fixedShift);
    const theta = new Float64Array(n * D);
    const x = new Float64Array(n * N);
    const component = new Int32Array(n * N);
    for (let b = 0; b < n; b++) {
      const s = fixedShift ?? priorShiftSd * rng.normal();
      for (let k = 0; k < K; k++) theta[b * D + k] = (means[k] as number) + s + centreSd * rng.normal();
      theta[b * D + K] = s;
      for (let i = 0; i < N; i++) {
        const c = Math.min(K - 1, Math.floor(rng.uniform() * K));
        component[b * N + i] = c;
        x[b * N + i] = (theta[b * D + c] as number) + obsSd * rng.normal();
      }
    }
    return { theta, x, component };
  }

  function toTensors(a: ClusteringDrawArrays, n: number): ClusteringDraw {
    const thetaF = Float32Array.from(a.theta);
    const zF = new Float32Array(n * K);
    const sF = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < K; k++) zF[b * K + k] = thetaF[b * D + k] as number;
      sF[b] = thetaF[b * D + K] as number;
    }
    return {
      theta: tf.tensor2d(thetaF, [n, D], 'float32'),
      x: tf.tensor3d(Float32Array.from(a.x), [n, N, 1], 'float32'),
      Z: tf.tensor2d(zF, [n, K], 'float32'),
      S: tf.tensor1d(sF, 'float32'),
    };
  }

  function simulateNamed(n: number, rng: Rng): ClusteringDraw {
    return toTensors(simulateArrays(n, rng), n);
  }

  function sample(n: number, rng: Pick<Rng, 'uniform' | 'normal'>): ClusteringPairs {
    const a = simulateArrays(n, rng);
    return {
      theta: tf.tensor2d(Float32Array.from(a.theta), [n, D], 'float32'),
      x: tf.tensor3d(Float32Array.from(a.x), [n, N, 1], 'float32'),
    };
  }

  function logJoint(theta: tf.Tensor, x: tf.Tensor): tf.Tensor {
    const flat = theta.rank === 2;
    if ((theta.rank !== 2 && theta.rank !== 3) || theta.shape[theta.rank - 1] !== D) {
      throw new ShapeError('theta', `[K, B, ${D}] or [B, ${D}]`, theta.shape);
    }
    const B = theta.shape[theta.rank - 2] as number;
    const xOk = (x.rank === 3 && x.shape[0] === B && x.shape[2] === 1) || (x.rank === 2 && x.shape[0] === B);
    if (!xOk) throw new ShapeError('x', `[${B}, nPoints, 1] (B matching theta)`, x.shape);
    return tf.tidy(() => {
      const th = (flat ? tf.expandDims(theta, 0) : theta) as tf.Tensor3D; // [K', B, D]
      const Kp = th.shape[0];
      const z = tf.slice(th, [0, 0, 0], [Kp, B, K]); // [K', B, K]
      const s = tf.slice(th, [0, 0, K], [Kp, B, 1]); // [K', B, 1]
      // log p(S)
      const sStd = tf.div(s, priorShiftSd);
      const logPs = tf.sub(tf.mul(-0.5, tf.sum(tf.square(sStd), -1)), Math.log(priorShiftSd) + HALF_LOG_2PI);
      // log p(Z | S)
      const mu = tf.tensor1d(means as number[], 'float32');
      const zStd = tf.div(tf.sub(z, tf.add(s, mu)), centreSd);
      const logPz = tf.sub(
        tf.mul(-0.5, tf.sum(tf.square(zStd), -1)),
        K * (Math.log(centreSd) + HALF_LOG_2PI),
      );
      // log p(X | Z): Σ_i logsumexp_k [-(x_i - z_k)² / 2σ²] - N (log K + log σ + ½ log 2π)
      const xs = tf.reshape(x, [1, B, -1, 1]); // [1, B, N, 1]
      const nPts = xs.shape[2] as number;
      const zz = tf.expandDims(z, 2); // [K', B, 1, K]
      const d = tf.div(tf.sub(xs, zz), obsSd); // [K', B, N, K]
      const lse = tf.logSumExp(tf.mul(-0.5, tf.square(d)), -1); // [K', B, N]
      const logPx = tf.sub(tf.sum(lse, -1), nPts * (Math.log(K) + Math.log(obsSd) + HALF_LOG_2PI));
      const out = tf.add(tf.add(logPs, logPz), logPx); // [K', B]
      return flat ? tf.squeeze(out, [0]) : out;
    });
  }

  function observedReplicate(seed: Seed, opts: { readonly S?: number } = {}): ClusteringReplicate {
    const S = checkFinite('S', opts.S ?? 100);
    const rng = createRng(seed).split('e2-observed');
    const a = simulateArrays(1, rng, S);
    const t = toTensors(a, 1);
    t.Z.dispose();
    t.S.dispose();
    return { seed, S, Z: Array.from(a.theta.subarray(0, K)), theta: t.theta, x: t.x };
  }

  return {
    config,
    nComponents: K,
    thetaSize: D,
    sample,
    simulate: sample,
    simulateNamed,
    simulateArrays,
    logJoint,
    observedReplicate,
  };
}
