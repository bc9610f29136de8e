import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Simulator } from '../simulator.js';

/** Names of the sbibm tasks implemented here (sbibm's own names). */
export type SbibmTaskName = 'gaussian_linear' | 'two_moons' | 'slcp';

/** A prior over θ ∈ R^dim: seeded draws, log-density, and its support box (null when unbounded). */
export interface SbibmPrior {
  readonly dim: number;
  /** Box support `{ low, high }` of a uniform prior; null for an unbounded prior. */
  readonly support: { readonly low: readonly number[]; readonly high: readonly number[] } | null;
  /** n draws as float64 rows, flat `[n · dim]`. */
  sampleArray(n: number, rng: Rng): Float64Array;
  /** n draws `[n, dim]` (float32). */
  sample(n: number, rng: Rng): tf.Tensor2D;
  /** log p(θ) `[n]` for θ `[n, dim]` (−Infinity outside a box). */
  logProb(theta: tf.Tensor): tf.Tensor1D;
  /** log p(θ) of one point in float64. */
  logProbOne(theta: ArrayLike<number>): number;
}

/**
 * One sbibm task: prior, simulator and exact likelihood. `sample(n, rng)` is the simulator contract
 * shared by all gcvi simulators (`Record<string, Tensor>`): `theta` `[n, thetaDim]` drawn from the
 * prior and `x` `[n, xDim]` drawn from the model given it, both float32; the random numbers are drawn
 * in float64 on the JS side, so a seed gives the same pairs on every backend.
 */
/**
 * What an sbibm task's `sample` returns. A type literal (not an interface), so it is assignable to
 * `Draws` (`Record<string, Tensor>`) and a task is a plain `Simulator` too.
 */
export type SbibmDraws = { readonly theta: tf.Tensor2D; readonly x: tf.Tensor2D };

export interface SbibmTask extends Simulator<SbibmDraws> {
  readonly name: SbibmTaskName;
  readonly thetaDim: number;
  readonly xDim: number;
  readonly prior: SbibmPrior;
  sample(n: number, rng: Rng): SbibmDraws;
  /** x for given θ `[n, thetaDim]` (float32 tensor in, float32 tensor out). */
  simulate(theta: tf.Tensor, rng: Rng): tf.Tensor2D;
  /** The same in float64: θ flat `[n · thetaDim]` → x flat `[n · xDim]`. */
  simulateArray(theta: ArrayLike<number>, rng: Rng): Float64Array;
  /** Exact log p(x | θ) of one pair, float64 (a proper density in x). */
  logLikelihood(theta: ArrayLike<number>, x: ArrayLike<number>): number;
}

export function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError('n', `must be an integer ≥ 1, got ${n}`);
}

export function thetaArray(theta: tf.Tensor, dim: number, name = 'theta'): Float64Array {
  if (!(theta instanceof tf.Tensor) || theta.rank !== 2 || theta.shape[1] !== dim) {
    throw new ShapeError(name, `[n, ${dim}]`, theta instanceof tf.Tensor ? theta.shape : []);
  }
  return Float64Array.from(theta.dataSync());
}

export function checkLength(name: string, v: ArrayLike<number>, dim: number): void {
  if (v.length !== dim) throw new ShapeError(name, `[${dim}]`, [v.length]);
}

export function toTensor(values: Float64Array, n: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(values), [n, dim]);
}

/** Uniform prior on a box. */
export function boxPrior(low: readonly number[], high: readonly number[]): SbibmPrior {
  const dim = low.length;
  const logVolume = low.reduce((a, l, i) => a + Math.log((high[i] as number) - l), 0);
  const sampleArray = (n: number, rng: Rng): Float64Array => {
    checkCount(n);
    const out = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) {
        const lo = low[j] as number;
        out[i * dim + j] = lo + ((high[j] as number) - lo) * rng.uniform();
      }
    }
    return out;
  };
  const logProbOne = (theta: ArrayLike<number>): number => {
    checkLength('theta', theta, dim);
    for (let j = 0; j < dim; j++) {
      const t = theta[j] as number;
      if (!(t >= (low[j] as number) && t <= (high[j] as number))) return Number.NEGATIVE_INFINITY;
    }
    return -logVolume;
  };
  return {
    dim,
    support: { low: [...low], high: [...high] },
    sampleArray,
    sample: (n, rng) => toTensor(sampleArray(n, rng), n, dim),
    logProb: (theta) => {
      const v = thetaArray(theta, dim);
      const n = v.length / dim;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = logProbOne(v.subarray(i * dim, (i + 1) * dim));
      return tf.tensor1d(out);
    },
    logProbOne,
  };
}

/** Independent Normal(0, variance) prior in each coordinate. */
export function isotropicNormalPrior(dim: number, variance: number): SbibmPrior {
  const sd = Math.sqrt(variance);
  const c = -0.5 * dim * Math.log(2 * Math.PI * variance);
  const sampleArray = (n: number, rng: Rng): Float64Array => {
    checkCount(n);
    const out = new Float64Array(n * dim);
    for (let i = 0; i < out.length; i++) out[i] = sd * rng.normal();
    return out;
  };
  const logProbOne = (theta: ArrayLike<number>): number => {
    checkLength('theta', theta, dim);
    let s = 0;
    for (let j = 0; j < dim; j++) s += (theta[j] as number) ** 2;
    return c - (0.5 * s) / variance;
  };
  return {
    dim,
    support: null,
    sampleArray,
    sample: (n, rng) => toTensor(sampleArray(n, rng), n, dim),
    logProb: (theta) => {
      const v = thetaArray(theta, dim);
      const n = v.length / dim;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = logProbOne(v.subarray(i * dim, (i + 1) * dim));
      return tf.tensor1d(out);
    },
    logProbOne,
  };
}

/** Assemble a task from a prior and a float64 simulator. */
export function makeTask(
  name: SbibmTaskName,
  prior: SbibmPrior,
  xDim: number,
  simulateArray: (theta: ArrayLike<number>, rng: Rng) => Float64Array,
  logLikelihood: (theta: ArrayLike<number>, x: ArrayLike<number>) => number,
): SbibmTask {
  const thetaDim = prior.dim;
  return {
    name,
    thetaDim,
    xDim,
    prior,
    sample(n, rng) {
      const th = prior.sampleArray(n, rng);
      const x = simulateArray(th, rng);
      return { theta: toTensor(th, n, thetaDim), x: toTensor(x, n, xDim) };
    },
    simulate(theta, rng) {
      const th = thetaArray(theta, thetaDim);
      return toTensor(simulateArray(th, rng), th.length / thetaDim, xDim);
    },
    simulateArray(theta, rng) {
      if (theta.length === 0 || theta.length % thetaDim !== 0) {
        throw new ShapeError('theta', `[n · ${thetaDim}]`, [theta.length]);
      }
      return simulateArray(theta, rng);
    },
    logLikelihood(theta, x) {
      checkLength('theta', theta, thetaDim);
      checkLength('x', x, xDim);
      return logLikelihood(theta, x);
    },
  };
}
