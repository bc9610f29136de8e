import { checkPositive, checkPositiveInt, NumericalError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Simulator } from './simulator.js';

/**
 * E1, the "canonical" experiment of the paper (section 5.1): an angle observed through a noisy
 * point on the unit circle.
 *
 *     θ ~ Uniform(0, 2π),   ε ~ Normal(0, σ²),   x = (cos(θ + ε), sin(θ + ε)).
 *
 * With φ = atan2(x2, x1) the angle of x, the likelihood of φ is the wrapped normal
 * Σ_k Normal(wrap(φ − θ) + 2πk; 0, σ²) (wrap into (−π, π]), and with the flat prior the exact
 * posterior is proportional to it. The paper (DESIGN §2 E1) keeps only the k = 0 term; at σ = 0.5
 * the others change the density by < 3e-9 relative, and keeping them makes the posterior exact
 * for any σ. Densities are normalized numerically on a grid of bin width ~1e-3 over (0, 2π), as
 * in the paper; all posterior arithmetic is float64 JavaScript.
 */

const TWO_PI = 2 * Math.PI;
const LOG_SQRT_TWO_PI = 0.5 * Math.log(TWO_PI);
/** Gaussian tails beyond this many σ are below float64 resolution relative to the peak. */
const REACH = 12;

export interface CanonicalSimulatorOptions {
  /** Noise standard deviation σ of the angle (default 0.5, the paper's value). */
  readonly sigma?: number;
}

export interface PosteriorGridOptions {
  /**
   * Requested bin width (default 1e-3). The grid has `ceil(2π / binWidth)` equal bins tiling
   * (0, 2π), so the width actually used (`PosteriorGrid.binWidth`) is at most this.
   */
  readonly binWidth?: number;
}

/** The exact posterior of each observation on a grid over (0, 2π). */
export interface PosteriorGrid {
  /** Bin centres, `(j + 1/2) · binWidth`, j = 0..nBins−1. */
  readonly theta: Float64Array;
  /** Width of each bin. */
  readonly binWidth: number;
  /** One density per observation, each of length nBins, normalized: Σ_j density[j] · binWidth = 1. */
  readonly density: Float64Array[];
}

/** Pairs (θ, x) as tensors: `theta` `[n, 1]`, `x` `[n, 2]`. */
export type CanonicalPairs = {
  readonly theta: tf.Tensor;
  readonly x: tf.Tensor;
};

/** A fixed test set and the exact-posterior NLL on it (the red line of Figure 1). */
export interface CanonicalTestSet extends CanonicalPairs {
  /** Mean over the set of −log p(θ_i | x_i) under the exact (grid-normalized) posterior. */
  readonly exactNll: number;
}

/** Angles accepted by the float64 helpers: a tensor `[n]` or `[n, 1]`, or numbers. */
export type AngleInput = tf.Tensor | ArrayLike<number>;
/**
 * Observations accepted by the float64 helpers: a tensor `[n, 2]` (or `[2]` for one point),
 * an array of pairs, or a flat array `[x1_0, x2_0, x1_1, x2_1, …]`.
 */
export type ObservationInput = tf.Tensor | ArrayLike<number> | ReadonlyArray<readonly [number, number]>;

/** The E1 problem: a `Simulator` of `{ theta, x }` plus its exact posterior. */
export interface CanonicalSimulator extends Simulator<CanonicalPairs> {
  readonly name: 'canonical';
  readonly sigma: number;
  /** `n` joint draws: `theta` `[n, 1]` in [0, 2π), `x` `[n, 2]` on the unit circle (float32). */
  sample(n: number, rng: Rng): CanonicalPairs;
  /** @deprecated The same function as `sample` (kept while callers move to `sample`). */
  simulate(n: number, rng: Rng): CanonicalPairs;
  /**
   * log p(θ, x) = log Uniform(θ; 0, 2π) + log WrappedNormal(φ − θ; 0, σ²), differentiable in θ.
   * The prior is read as uniform on the circle (θ taken mod 2π) and the likelihood as a density of
   * the angle φ of x (x lies on the circle). `theta` is `[K, B, 1]` (or `[K, B]`), `x` is `[B, 2]`;
   * returns `[K, B]`.
   */
  logJoint(theta: tf.Tensor, x: tf.Tensor): tf.Tensor;
  /** Exact posterior densities on the grid, one per observation (float64). */
  exactPosteriorGrid(x: ObservationInput, options?: PosteriorGridOptions): PosteriorGrid;
  /** log p(θ_i | x_i) for each pair, normalized on the grid (float64). */
  exactLogPosterior(theta: AngleInput, x: ObservationInput, options?: PosteriorGridOptions): Float64Array;
  /** Mean of −log p(θ_i | x_i) over the pairs (float64). */
  exactNll(theta: AngleInput, x: ObservationInput, options?: PosteriorGridOptions): number;
  /** A test set of `n` pairs with its exact NLL. */
  testSet(n: number, rng: Rng): CanonicalTestSet;
}

/** Wrap an angle difference into (−π, π]. */
export function wrapAngle(u: number): number {
  let w = u - TWO_PI * Math.floor(u / TWO_PI); // [0, 2π)
  if (w > Math.PI) w -= TWO_PI;
  return w;
}

function gridFor(binWidth: number | undefined, sigma: number): { theta: Float64Array; h: number } {
  const requested = binWidth ?? 1e-3;
  checkPositive('binWidth', requested);
  if (requested > sigma / 2) {
    // The grid must resolve the posterior: with h ≤ σ/2 the midpoint rule on this smooth periodic
    // density is accurate to ~exp(−2π²σ²/h²) < 1e-34.
    throw new NumericalError(
      'binWidth',
      `must be at most σ/2 = ${sigma / 2} to resolve a posterior of width σ = ${sigma}, got ${requested}`,
    );
  }
  const n = Math.ceil(TWO_PI / requested - 1e-9);
  const h = TWO_PI / n;
  const theta = new Float64Array(n);
  for (let j = 0; j < n; j++) theta[j] = (j + 0.5) * h;
  return { theta, h };
}

function tensorValues(name: string, t: tf.Tensor): Float64Array {
  const data = t.dataSync();
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) throw new NumericalError(name, `must be finite, found ${v} at flat index ${i}`);
    out[i] = v;
  }
  return out;
}

function angles(name: string, theta: AngleInput): Float64Array {
  if (theta instanceof tf.Tensor) {
    if (!(theta.rank === 1 || (theta.rank === 2 && theta.shape[1] === 1))) {
      throw new ShapeError(name, '[n] or [n, 1]', theta.shape);
    }
    return tensorValues(name, theta);
  }
  const out = Float64Array.from(theta as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new NumericalError(name, `must be finite, found ${out[i]} at ${i}`);
  }
  return out;
}

/** Observation angles φ_i = atan2(x2, x1); rejects points at the origin (no angle). */
function observationAngles(name: string, x: ObservationInput): Float64Array {
  let flat: Float64Array;
  if (x instanceof tf.Tensor) {
    if (!((x.rank === 2 && x.shape[1] === 2) || (x.rank === 1 && x.shape[0] === 2))) {
      throw new ShapeError(name, '[n, 2] or [2]', x.shape);
    }
    flat = tensorValues(name, x);
  } else {
    const arr = x as ArrayLike<number | readonly [number, number]>;
    if (arr.length > 0 && typeof arr[0] !== 'number') {
      flat = new Float64Array(2 * arr.length);
      for (let i = 0; i < arr.length; i++) {
        const p = arr[i] as readonly number[];
        if (p.length !== 2) throw new ShapeError(`${name}[${i}]`, '[2]', [p.length]);
        flat[2 * i] = p[0] as number;
        flat[2 * i + 1] = p[1] as number;
      }
    } else {
      flat = Float64Array.from(arr as ArrayLike<number>);
      if (flat.length % 2 !== 0) throw new ShapeError(name, 'a flat array of pairs [2n]', [flat.length]);
    }
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i])) throw new NumericalError(name, `must be finite, found ${flat[i]}`);
    }
  }
  const n = flat.length / 2;
  const phi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x1 = flat[2 * i] as number;
    const x2 = flat[2 * i + 1] as number;
    if (x1 === 0 && x2 === 0) {
      throw new NumericalError(name, `observation ${i} is (0, 0), which has no angle`);
    }
    phi[i] = Math.atan2(x2, x1);
  }
  return phi;
}

/** Number of images k = −K..K of the wrapped normal needed for float64 accuracy at scale σ. */
function wrapTerms(sigma: number): number {
  // Image k is at distance ≥ π(2|k| − 1) from w; beyond REACH·σ its relative weight is < 1e-31.
  return Math.max(1, Math.ceil(((REACH * sigma) / Math.PI + 1) / 2));
}

/**
 * log Σ_k exp(−(w + 2πk)²/(2σ²)) for w in (−π, π] (the k = 0 term is the largest): the
 * unnormalized log density of the wrapped normal.
 */
function logWrappedKernel(w: number, inv2s2: number, nTerms: number): number {
  const base = -w * w * inv2s2;
  let s = 1;
  for (let k = 1; k <= nTerms; k++) {
    const a = w + TWO_PI * k;
    const b = w - TWO_PI * k;
    s += Math.exp(-a * a * inv2s2 - base) + Math.exp(-b * b * inv2s2 - base);
  }
  return base + Math.log(s);
}

/**
 * log of the grid normalizer h · Σ_j Σ_k exp(−(φ − θ_j + 2πk)²/(2σ²)). The double sum runs over
 * the lattice {θ_j − 2πk}, i.e. the points (m + 1/2)·h for all integers m; only those within REACH·σ
 * of φ contribute in float64 (relative weight < 1e-31 beyond), so we sum exactly those.
 */
function logGridNormalizer(phi: number, h: number, sigma: number, inv2s2: number): number {
  const lo = Math.ceil((phi - REACH * sigma) / h - 0.5);
  const hi = Math.floor((phi + REACH * sigma) / h - 0.5);
  let s = 0;
  for (let m = lo; m <= hi; m++) {
    const u = phi - (m + 0.5) * h;
    s += Math.exp(-u * u * inv2s2);
  }
  return Math.log(s * h);
}

/** The E1 simulator and its exact posterior. */
export function canonicalSimulator(options: CanonicalSimulatorOptions = {}): CanonicalSimulator {
  const sigma = options.sigma ?? 0.5;
  checkPositive('sigma', sigma);
  const inv2s2 = 1 / (2 * sigma * sigma);
  const nTerms = wrapTerms(sigma);

  function sample(n: number, rng: Rng): CanonicalPairs {
    checkPositiveInt('n', n);
    return tf.tidy(() => {
      const theta = rng.uniformTensor([n, 1], 0, TWO_PI);
      const eps = rng.normalTensor([n, 1], 0, sigma);
      const angle = tf.add(theta, eps);
      const x = tf.concat([tf.cos(angle), tf.sin(angle)], 1);
      return { theta, x };
    });
  }

  function logJoint(theta: tf.Tensor, x: tf.Tensor): tf.Tensor {
    if (x.rank !== 2 || x.shape[1] !== 2) throw new ShapeError('x', '[B, 2]', x.shape);
    const b = x.shape[0] as number;
    const ok =
      (theta.rank === 3 && theta.shape[1] === b && theta.shape[2] === 1) ||
      (theta.rank === 2 && theta.shape[1] === b);
    if (!ok) throw new ShapeError('theta', `[K, ${b}, 1] or [K, ${b}]`, theta.shape);
    return tf.tidy(() => {
      const th = theta.rank === 3 ? tf.squeeze(theta, [2]) : theta;
      const [x1, x2] = tf.split(x, 2, 1) as [tf.Tensor, tf.Tensor];
      const phi = tf.reshape(tf.atan2(x2 as tf.Tensor, x1 as tf.Tensor), [1, b]);
      const u = tf.sub(phi, th);
      // wrap into [−π, π): u − 2π·floor((u + π)/2π); floor has zero gradient, so d/dθ wrap = −1.
      const shift = tf.mul(tf.floor(tf.div(tf.add(u, Math.PI), TWO_PI)), TWO_PI);
      const w = tf.sub(u, shift);
      const images: number[] = [];
      for (let k = -nTerms; k <= nTerms; k++) images.push(TWO_PI * k);
      const shifted = tf.add(tf.expandDims(w, -1), tf.tensor1d(images)); // [K, B, 2·nTerms + 1]
      const logKernel = tf.logSumExp(tf.mul(tf.square(shifted), -inv2s2), -1);
      return tf.sub(logKernel, Math.log(sigma) + LOG_SQRT_TWO_PI + Math.log(TWO_PI));
    });
  }

  function exactPosteriorGrid(x: ObservationInput, opts: PosteriorGridOptions = {}): PosteriorGrid {
    const phi = observationAngles('x', x);
    const { theta, h } = gridFor(opts.binWidth, sigma);
    const density: Float64Array[] = [];
    for (let i = 0; i < phi.length; i++) {
      const p = new Float64Array(theta.length);
      let s = 0;
      for (let j = 0; j < theta.length; j++) {
        const u = wrapAngle((phi[i] as number) - (theta[j] as number));
        const v = Math.exp(logWrappedKernel(u, inv2s2, nTerms));
        p[j] = v;
        s += v;
      }
      const scale = 1 / (s * h);
      for (let j = 0; j < p.length; j++) p[j] = (p[j] as number) * scale;
      density.push(p);
    }
    return { theta, binWidth: h, density };
  }

  function exactLogPosterior(
    thetaIn: AngleInput,
    x: ObservationInput,
    opts: PosteriorGridOptions = {},
  ): Float64Array {
    const th = angles('theta', thetaIn);
    const phi = observationAngles('x', x);
    if (th.length !== phi.length) {
      throw new ShapeError('theta', `[${phi.length}] (one angle per observation in x)`, [th.length]);
    }
    const { h } = gridFor(opts.binWidth, sigma);
    const out = new Float64Array(th.length);
    for (let i = 0; i < th.length; i++) {
      const u = wrapAngle((phi[i] as number) - (th[i] as number));
      out[i] = logWrappedKernel(u, inv2s2, nTerms) - logGridNormalizer(phi[i] as number, h, sigma, inv2s2);
    }
    return out;
  }

  function exactNll(thetaIn: AngleInput, x: ObservationInput, opts: PosteriorGridOptions = {}): number {
    const lp = exactLogPosterior(thetaIn, x, opts);
    if (lp.length === 0) throw new ShapeError('theta', '[n] with n ≥ 1', [0]);
    let s = 0;
    for (let i = 0; i < lp.length; i++) s -= lp[i] as number;
    return s / lp.length;
  }

  function testSet(n: number, rng: Rng): CanonicalTestSet {
    const pairs = sample(n, rng);
    return { ...pairs, exactNll: exactNll(pairs.theta, pairs.x) };
  }

  return {
    name: 'canonical',
    sigma,
    sample,
    simulate: sample,
    logJoint,
    exactPosteriorGrid,
    exactLogPosterior,
    exactNll,
    testSet,
  };
}

/**
 * A fixed E1 test set of `n` pairs (the paper uses 1,000) drawn from `rng`, with the exact NLL on
 * it. Compare a model's test NLL with `exactNll` of the same set: on 1,000 points the sampling
 * noise of either is ~0.02, but the two are strongly correlated.
 */
export function canonicalTestSet(
  n: number,
  rng: Rng,
  options: CanonicalSimulatorOptions = {},
): CanonicalTestSet {
  return canonicalSimulator(options).testSet(n, rng);
}
