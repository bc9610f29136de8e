import { ConfigError, type Rng } from '@gcvi/runtime';
import { boxPrior, isotropicNormalPrior, makeTask, type SbibmTask } from './task.js';

/*
 * The three sbibm tasks with sbibm's priors and constants (sbi-benchmark/sbibm, sbibm/tasks/*
 * /task.py; restated in ../shared/fixtures/sbibm/README.md).
 */

const LOG_2PI = Math.log(2 * Math.PI);

// ---- gaussian_linear ---------------------------------------------------------------------------

/** gaussian_linear: θ ∈ R¹⁰, prior N(0, 0.1·I), x | θ ~ N(θ, 0.1·I) (0.1 is the variance). */
export const GAUSSIAN_LINEAR = { dim: 10, priorVariance: 0.1, noiseVariance: 0.1 } as const;

export interface GaussianLinearTask extends SbibmTask {
  readonly name: 'gaussian_linear';
  /** The exact posterior N(mean, variance·I) for an observation x_o: mean x_o/2, variance 0.05. */
  posterior(x: ArrayLike<number>): { readonly mean: number[]; readonly variance: number };
  /** n exact posterior draws, float64 rows flat `[n · 10]`. */
  samplePosterior(x: ArrayLike<number>, n: number, rng: Rng): Float64Array;
  /** Exact log p(θ | x_o), float64. */
  logPosterior(theta: ArrayLike<number>, x: ArrayLike<number>): number;
}

export function gaussianLinear(): GaussianLinearTask {
  const { dim, priorVariance: v0, noiseVariance: v1 } = GAUSSIAN_LINEAR;
  const sd = Math.sqrt(v1);
  const prior = isotropicNormalPrior(dim, v0);
  const gaussLog = (a: ArrayLike<number>, mean: ArrayLike<number>, variance: number) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += ((a[j] as number) - (mean[j] as number)) ** 2;
    return -0.5 * dim * (LOG_2PI + Math.log(variance)) - (0.5 * s) / variance;
  };
  const base = makeTask(
    'gaussian_linear',
    prior,
    dim,
    (theta, rng) => {
      const out = new Float64Array(theta.length);
      for (let i = 0; i < theta.length; i++) out[i] = (theta[i] as number) + sd * rng.normal();
      return out;
    },
    (theta, x) => gaussLog(x, theta, v1),
  );
  // Conjugate update: precision 1/v0 + 1/v1, mean = (x/v1) / precision.
  const postVar = 1 / (1 / v0 + 1 / v1);
  const posterior = (x: ArrayLike<number>) => {
    if (x.length !== dim) throw new ConfigError('x', `expected ${dim} numbers, got ${x.length}`);
    return { mean: Array.from(x, (xi) => (postVar * xi) / v1), variance: postVar };
  };
  return {
    ...base,
    name: 'gaussian_linear',
    posterior,
    samplePosterior(x, n, rng) {
      const { mean, variance } = posterior(x);
      const s = Math.sqrt(variance);
      const out = new Float64Array(n * dim);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < dim; j++) out[i * dim + j] = (mean[j] as number) + s * rng.normal();
      return out;
    },
    logPosterior(theta, x) {
      const { mean, variance } = posterior(x);
      return gaussLog(theta, mean, variance);
    },
  };
}

// ---- two_moons ---------------------------------------------------------------------------------

/** two_moons constants: prior Uniform([−1, 1]²); a ~ U(−π/2, π/2), r ~ N(0.1, 0.01²), offset 0.25. */
export const TWO_MOONS = {
  priorBound: 1,
  aLow: -Math.PI / 2,
  aHigh: Math.PI / 2,
  rLoc: 0.1,
  rScale: 0.01,
  baseOffset: 0.25,
  angle: -Math.PI / 4,
} as const;

/** The rotated parameter: (z0, z1) = R(−π/4) θ, i.e. z0 = cθ1 − sθ2, z1 = sθ1 + cθ2. */
function moonsShift(t1: number, t2: number): [number, number] {
  const c = Math.cos(TWO_MOONS.angle);
  const s = Math.sin(TWO_MOONS.angle);
  const z0 = c * t1 - s * t2;
  const z1 = s * t1 + c * t2;
  return [-Math.abs(z0), z1];
}

export function twoMoons(): SbibmTask {
  const b = TWO_MOONS.priorBound;
  return makeTask(
    'two_moons',
    boxPrior([-b, -b], [b, b]),
    2,
    (theta, rng) => {
      const n = theta.length / 2;
      const out = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        // sbibm draws a then r for the whole batch; here per pair (same distribution).
        const a = TWO_MOONS.aLow + (TWO_MOONS.aHigh - TWO_MOONS.aLow) * rng.uniform();
        const r = TWO_MOONS.rLoc + TWO_MOONS.rScale * rng.normal();
        const [d0, d1] = moonsShift(theta[2 * i] as number, theta[2 * i + 1] as number);
        out[2 * i] = r * Math.cos(a) + TWO_MOONS.baseOffset + d0;
        out[2 * i + 1] = r * Math.sin(a) + d1;
      }
      return out;
    },
    (theta, x) => {
      // p = x − shift(θ) = (r cos a + 0.25, r sin a); polar (r, a) with a ∈ (−π/2, π/2) needs u > 0.
      // Density of p: N(r; 0.1, 0.01²) · (1/π) · (1/r) (the 1/r is the polar Jacobian). sbibm's
      // _likelihood keeps only the N(r) factor, which is not a density in x.
      const [d0, d1] = moonsShift(theta[0] as number, theta[1] as number);
      const u = (x[0] as number) - d0 - TWO_MOONS.baseOffset;
      const v = (x[1] as number) - d1;
      if (!(u > 0)) return Number.NEGATIVE_INFINITY;
      const r = Math.hypot(u, v);
      const zr = (r - TWO_MOONS.rLoc) / TWO_MOONS.rScale;
      return -0.5 * zr * zr - 0.5 * LOG_2PI - Math.log(TWO_MOONS.rScale) - Math.log(Math.PI) - Math.log(r);
    },
  );
}

/** Polar coordinates (r, a) of x − shift(θ) − (0.25, 0): r ~ N(0.1, 0.01²), a ~ U(−π/2, π/2) under the model. */
export function twoMoonsNoise(theta: ArrayLike<number>, x: ArrayLike<number>): { r: number; a: number } {
  const [d0, d1] = moonsShift(theta[0] as number, theta[1] as number);
  const u = (x[0] as number) - d0 - TWO_MOONS.baseOffset;
  const v = (x[1] as number) - d1;
  return { r: Math.hypot(u, v), a: Math.atan2(v, u) };
}

// ---- slcp --------------------------------------------------------------------------------------

/** slcp: θ ∈ [−3, 3]⁵, 4 draws x_k ~ N(m, S) in R², flattened to 8 numbers (draw-major). */
export const SLCP = { dim: 5, priorBound: 3, draws: 4, eps: 1e-6 } as const;

/** Mean and covariance of each slcp draw for θ: m = (θ1, θ2), S = [[s1², ρs1s2], [ρs1s2, s2²]] + 1e-6·I. */
export function slcpMoments(theta: ArrayLike<number>): { m: [number, number]; S: [number, number, number] } {
  const s1 = (theta[2] as number) ** 2;
  const s2 = (theta[3] as number) ** 2;
  const rho = Math.tanh(theta[4] as number);
  return {
    m: [theta[0] as number, theta[1] as number],
    S: [s1 * s1 + SLCP.eps, rho * s1 * s2, s2 * s2 + SLCP.eps],
  };
}

export function slcp(): SbibmTask {
  const b = SLCP.priorBound;
  const low = Array(SLCP.dim).fill(-b);
  const high = Array(SLCP.dim).fill(b);
  return makeTask(
    'slcp',
    boxPrior(low, high),
    2 * SLCP.draws,
    (theta, rng) => {
      const n = theta.length / SLCP.dim;
      const out = new Float64Array(n * 2 * SLCP.draws);
      for (let i = 0; i < n; i++) {
        const { m, S } = slcpMoments(Array.prototype.slice.call(theta, i * 5, i * 5 + 5) as number[]);
        // Cholesky factor of S.
        const l11 = Math.sqrt(S[0]);
        const l21 = S[1] / l11;
        const l22 = Math.sqrt(Math.max(S[2] - l21 * l21, 0));
        for (let k = 0; k < SLCP.draws; k++) {
          const e1 = rng.normal();
          const e2 = rng.normal();
          out[i * 8 + 2 * k] = m[0] + l11 * e1;
          out[i * 8 + 2 * k + 1] = m[1] + l21 * e1 + l22 * e2;
        }
      }
      return out;
    },
    (theta, x) => {
      const { m, S } = slcpMoments(theta);
      const det = S[0] * S[2] - S[1] * S[1];
      let q = 0;
      for (let k = 0; k < SLCP.draws; k++) {
        const a = (x[2 * k] as number) - m[0];
        const c = (x[2 * k + 1] as number) - m[1];
        q += (S[2] * a * a - 2 * S[1] * a * c + S[0] * c * c) / det;
      }
      return SLCP.draws * (-LOG_2PI - 0.5 * Math.log(det)) - 0.5 * q;
    },
  );
}

/** A task by its sbibm name. */
export function sbibmTask(name: 'gaussian_linear'): GaussianLinearTask;
export function sbibmTask(name: 'two_moons' | 'slcp'): SbibmTask;
export function sbibmTask(name: string): SbibmTask;
export function sbibmTask(name: string): SbibmTask {
  if (name === 'gaussian_linear') return gaussianLinear();
  if (name === 'two_moons') return twoMoons();
  if (name === 'slcp') return slcp();
  throw new ConfigError('task', `unknown sbibm task '${name}' (known: gaussian_linear, two_moons, slcp)`);
}
