/**
 * The exact posterior of the E4 angle on a grid, and the metrics of a Gaussian q against it. The
 * prior is uniform on the circle, p(θ) = 1/(2π); `logLik` is log p(x | θ) at the grid nodes, which
 * cover [0, 2π] (the last node is 2π, with the value at 0: the likelihood is periodic). Integrals
 * use the trapezoid rule on the (non-uniform) nodes, in float64.
 */

const TWO_PI = 2 * Math.PI;
const LOG_2PI = Math.log(TWO_PI);

export interface GridPosterior {
  /** Sorted nodes in [0, 2π], last = 2π. */
  readonly nodes: Float64Array;
  readonly logLik: Float64Array;
  /** log p(x) = log ∫ p(θ) p(x | θ) dθ. */
  readonly logEvidence: number;
  /** Posterior density at the nodes. */
  readonly density: Float64Array;
  /** E_p[log p(θ | x)] (minus the differential entropy). */
  readonly negEntropy: number;
  /** Posterior mode (radians, the node with the largest likelihood). */
  readonly mode: number;
}

function trapz(x: Float64Array, y: (i: number) => number): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++)
    s += 0.5 * ((x[i + 1] as number) - (x[i] as number)) * (y(i) + y(i + 1));
  return s;
}

/** Merge node lists into sorted unique nodes in [0, 2π) plus the closing node 2π. */
export function mergeNodes(...lists: ArrayLike<number>[]): Float64Array {
  const all: number[] = [];
  for (const l of lists)
    for (let i = 0; i < l.length; i++) all.push((((l[i] as number) % TWO_PI) + TWO_PI) % TWO_PI);
  all.sort((a, b) => a - b);
  const out: number[] = [];
  for (const v of all) if (out.length === 0 || v - (out[out.length - 1] as number) > 1e-12) out.push(v);
  if (out[0] !== 0) out.unshift(0);
  return Float64Array.from(out);
}

/** Build the posterior from nodes in [0, 2π) (starting at 0) and log-likelihoods there. */
export function gridPosterior(nodes0: Float64Array, logLik0: ArrayLike<number>): GridPosterior {
  if (nodes0[0] !== 0) throw new Error('gridPosterior: the first node must be 0');
  const nodes = Float64Array.from([...nodes0, TWO_PI]);
  const logLik = Float64Array.from([...Array.from(logLik0), logLik0[0] as number]);
  let max = Number.NEGATIVE_INFINITY;
  let mode = 0;
  logLik.forEach((v, i) => {
    if (v > max) {
      max = v;
      mode = nodes[i] as number;
    }
  });
  const z = trapz(nodes, (i) => Math.exp((logLik[i] as number) - max));
  const logEvidence = max + Math.log(z) - LOG_2PI;
  const logDens = Float64Array.from(logLik, (l) => l - LOG_2PI - logEvidence);
  const density = Float64Array.from(logDens, Math.exp);
  const negEntropy = trapz(nodes, (i) => (density[i] as number) * (logDens[i] as number));
  return { nodes, logLik, logEvidence, density, negEntropy, mode };
}

const logNormal = (t: number, mu: number, sd: number) =>
  -0.5 * ((t - mu) / sd) ** 2 - Math.log(sd) - 0.5 * LOG_2PI;

export interface GaussianMetrics {
  /** KL(p ‖ q) with q = Normal(mu, sd) on the real line and θ in [0, 2π). */
  readonly forwardKl: number;
  /** KL(q ‖ p) = log p(x) − ELBO(q) (the prior and likelihood are periodic). */
  readonly reverseKl: number;
  readonly elbo: number;
  /** −log q(θ_true). */
  readonly nll: number;
}

export function gaussianMetrics(
  post: GridPosterior,
  mu: number,
  sd: number,
  trueTheta: number,
): GaussianMetrics {
  const { nodes, density, logLik } = post;
  const eLogQ = trapz(nodes, (i) => (density[i] as number) * logNormal(nodes[i] as number, mu, sd));
  // E_q[log p(x | θ)] over the real line: the likelihood repeats every 2π.
  let eLogLik = 0;
  const k0 = Math.floor((mu - 10 * sd) / TWO_PI);
  const k1 = Math.floor((mu + 10 * sd) / TWO_PI);
  for (let k = k0; k <= k1; k++) {
    eLogLik += trapz(
      nodes,
      (i) => Math.exp(logNormal((nodes[i] as number) + k * TWO_PI, mu, sd)) * (logLik[i] as number),
    );
  }
  const entropyQ = 0.5 * Math.log(2 * Math.PI * Math.E * sd * sd);
  const elbo = eLogLik - LOG_2PI + entropyQ;
  return {
    forwardKl: post.negEntropy - eLogQ,
    reverseKl: post.logEvidence - elbo,
    elbo,
    nll: -logNormal(trueTheta, mu, sd),
  };
}
