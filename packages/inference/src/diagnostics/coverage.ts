import { ConfigError, type Rng } from '@gcvi/runtime';
import binomialQuantile from '@stdlib/stats-base-dists-binomial-quantile';
import * as tf from '@tensorflow/tfjs-core';
import { circularMean, circularOf, type Pairs, type PosteriorLike, pairsOf, rows, wrapPi } from './common.js';

export interface CoverageOptions {
  readonly pairs: Pairs;
  /** Posterior draws per pair used to estimate each credibility (default 1000). */
  readonly samples?: number;
  readonly rng: Rng;
  /** Credibility levels to report (default 0.05, 0.10, …, 0.95). */
  readonly levels?: readonly number[];
  readonly chunk?: number;
}

export interface CoverageResult {
  readonly levels: number[];
  /** Share of pairs whose θ* lies in the highest-density region of each level. */
  readonly coverage: number[];
  /** Pointwise 95% binomial band around the nominal level (what a calibrated posterior stays in). */
  readonly lower: number[];
  readonly upper: number[];
  /** Per pair: the smallest HPD level containing θ* (uniform on (0, 1) when calibrated). */
  readonly credibility: Float64Array;
  readonly settings: string;
}

/**
 * Expected coverage of highest-posterior-density regions (the sbi/"HPD" coverage test): for each
 * test pair, the credibility of θ* is the share of posterior draws with a higher density than θ*;
 * the coverage at level c is the share of pairs with credibility ≤ c. Over-confident posteriors
 * fall below the diagonal, under-confident ones above. It only uses log q, so angles (a 2π-periodic
 * density) need no special care.
 */
export function expectedCoverage(posterior: PosteriorLike, options: CoverageOptions): CoverageResult {
  if (typeof posterior.logProb !== 'function')
    throw new ConfigError('posterior', 'coverage needs posterior.logProb');
  const L = options.samples ?? 1000;
  if (!Number.isInteger(L) || L < 1) throw new ConfigError('samples', `must be a positive integer, got ${L}`);
  const levels = options.levels ? [...options.levels] : Array.from({ length: 19 }, (_, i) => (i + 1) / 20);
  const chunk = options.chunk ?? 100;
  const { n } = pairsOf(options.pairs);
  const cred = new Float64Array(n);
  const rng = options.rng.split('coverage/draws');
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const [lpDraws, lpTruth] = tf.tidy(() => {
      const xb = rows(options.pairs.x, s, m);
      const th = rows(
        options.pairs.theta.rank === 1 ? tf.expandDims(options.pairs.theta, 1) : options.pairs.theta,
        s,
        m,
      );
      const draws = posterior.sample(xb, L, rng); // [L, m, dim]
      return [posterior.logProb!(draws, xb).dataSync(), posterior.logProb!(th, xb).dataSync()];
    }) as unknown as [Float32Array, Float32Array];
    for (let i = 0; i < m; i++) {
      let above = 0;
      const t = lpTruth[i] as number;
      for (let l = 0; l < L; l++) if ((lpDraws[l * m + i] as number) > t) above++;
      cred[s + i] = above / L;
    }
  }
  const coverage = levels.map((c) => {
    let k = 0;
    for (let i = 0; i < n; i++) if ((cred[i] as number) <= c) k++;
    return k / n;
  });
  return {
    levels,
    coverage,
    lower: levels.map((c) => binomialQuantile(0.025, n, c) / n),
    upper: levels.map((c) => binomialQuantile(0.975, n, c) / n),
    credibility: cred,
    settings: `HPD expected coverage: N = ${n} pairs, ${L} posterior draws each; band: pointwise 95% binomial`,
  };
}

export interface ZScoreResult {
  /** Per coordinate: mean over pairs of the posterior z-score (mean − θ*)/sd (wrapped on angles). */
  readonly meanZ: number[];
  /** Per coordinate: mean over pairs of |z|. */
  readonly meanAbsZ: number[];
  /** Per coordinate: mean over pairs of 1 − posterior variance / prior variance. */
  readonly contraction: number[];
  /** Per pair and coordinate (`[N, dim]` row-major). */
  readonly z: Float64Array;
  readonly contractionPerPair: Float64Array;
  readonly settings: string;
}

/**
 * Posterior z-score and contraction (Schad, Betancourt & Vasishth 2021), from posterior draws.
 * The prior variance is the variance of θ* over the test pairs (draws from the prior). On angles:
 * circular mean, wrapped differences, and circular variance 1 − R̄ for both posterior and prior.
 */
export function zScoreContraction(
  posterior: PosteriorLike,
  options: { pairs: Pairs; samples?: number; rng: Rng; circular?: readonly boolean[]; chunk?: number },
): ZScoreResult {
  const L = options.samples ?? 500;
  const chunk = options.chunk ?? 100;
  const { theta, n, dim } = pairsOf(options.pairs);
  const circular = circularOf(posterior, dim, options.circular);
  const priorVar = new Array(dim).fill(0).map((_, j) => {
    if (circular[j]) return 1 - circularMean(theta, dim, j, n).r;
    let m = 0;
    for (let i = 0; i < n; i++) m += theta[i * dim + j] as number;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += ((theta[i * dim + j] as number) - m) ** 2;
    return v / (n - 1);
  });
  const z = new Float64Array(n * dim);
  const con = new Float64Array(n * dim);
  const rng = options.rng.split('zscore/draws');
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const draws = tf.tidy(() =>
      posterior.sample(rows(options.pairs.x, s, m), L, rng).dataSync(),
    ) as Float32Array;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < dim; j++) {
        const truth = theta[(s + i) * dim + j] as number;
        const off = i * dim + j;
        const stride = m * dim;
        let mean: number;
        let variance: number;
        let sd: number;
        let diff: number;
        if (circular[j]) {
          const cm = circularMean(draws, stride, off, L);
          mean = cm.mean;
          variance = 1 - cm.r;
          sd = Math.sqrt(-2 * Math.log(Math.max(cm.r, 1e-300)));
          diff = wrapPi(mean - truth);
        } else {
          mean = 0;
          for (let l = 0; l < L; l++) mean += draws[off + l * stride] as number;
          mean /= L;
          variance = 0;
          for (let l = 0; l < L; l++) variance += ((draws[off + l * stride] as number) - mean) ** 2;
          variance /= L - 1;
          sd = Math.sqrt(variance);
          diff = mean - truth;
        }
        z[(s + i) * dim + j] = diff / sd;
        con[(s + i) * dim + j] = 1 - variance / (priorVar[j] as number);
      }
    }
  }
  const avg = (a: Float64Array, f: (v: number) => number) =>
    Array.from({ length: dim }, (_, j) => {
      let t = 0;
      for (let i = 0; i < n; i++) t += f(a[i * dim + j] as number);
      return t / n;
    });
  return {
    meanZ: avg(z, (v) => v),
    meanAbsZ: avg(z, Math.abs),
    contraction: avg(con, (v) => v),
    z,
    contractionPerPair: con,
    settings: `z-score/contraction: N = ${n} pairs, ${L} posterior draws each; prior variance from the ${n} θ*`,
  };
}
