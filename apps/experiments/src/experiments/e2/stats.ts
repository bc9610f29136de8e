/**
 * Statistics of E2 (Table 1, Figure 2): ordering and matching of the posterior mode of q(Z | X),
 * Wilson intervals for shares, and a Gaussian kernel density for the mode of q(S | X).
 * Plain JS, float64.
 */

/** Whether the centres are in strictly increasing order. */
export function isIncreasing(z: readonly number[]): boolean {
  for (let k = 1; k < z.length; k++) if (!((z[k] as number) > (z[k - 1] as number))) return false;
  return z.length > 0 && z.every(Number.isFinite);
}

/**
 * Whether every estimated centre is matched to the right true centre: the true centre nearest to
 * the estimate of Z_k is Z_k itself, for every k (so the labels are right, not just the set).
 */
export function matchesTrueCentres(estimate: readonly number[], truth: readonly number[]): boolean {
  if (estimate.length !== truth.length || estimate.length === 0) return false;
  for (let k = 0; k < estimate.length; k++) {
    const e = estimate[k] as number;
    if (!Number.isFinite(e)) return false;
    let best = 0;
    for (let j = 1; j < truth.length; j++) {
      if (Math.abs(e - (truth[j] as number)) < Math.abs(e - (truth[best] as number))) best = j;
    }
    if (best !== k) return false;
  }
  return true;
}

/** Σ_k |estimate_k − truth_k| (label by label, no re-matching). */
export function l1Distance(estimate: readonly number[], truth: readonly number[]): number {
  if (estimate.length !== truth.length) {
    throw new RangeError(`l1Distance: lengths differ (${estimate.length} vs ${truth.length})`);
  }
  let s = 0;
  for (let k = 0; k < estimate.length; k++) s += Math.abs((estimate[k] as number) - (truth[k] as number));
  return s;
}

/** Wilson score interval for `successes` out of `n` (default 95%, z = 1.959964). */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): [number, number] {
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`wilsonInterval: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be an integer in [0, ${n}], got ${successes}`);
  }
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export function mean(v: readonly number[]): number {
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/** Sample standard deviation (n − 1); 0 for a single value, NaN for none. */
export function sd(v: readonly number[]): number {
  if (v.length === 0) return Number.NaN;
  if (v.length === 1) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

/** Type-7 quantile of sorted values (linear interpolation between order statistics). */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * Silverman's rule-of-thumb bandwidth 0.9·min(sd, IQR/1.34)·n^(−1/5), floored at `minBandwidth`
 * (a pile of identical modes would otherwise give a zero-width kernel).
 */
export function silvermanBandwidth(values: readonly number[], minBandwidth = 0.25): number {
  const v = values.filter(Number.isFinite);
  if (v.length < 2) return minBandwidth;
  const sorted = [...v].sort((a, b) => a - b);
  const iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
  const s = sd(v);
  const spread = iqr > 0 ? Math.min(s, iqr / 1.34) : s;
  return Math.max(minBandwidth, 0.9 * spread * v.length ** -0.2);
}

/**
 * Gaussian kernel density of `values` on `grid` (integrates to the share of values, i.e. 1 when all
 * are finite). Non-finite values are ignored.
 */
export function gaussianKde(values: readonly number[], grid: readonly number[], bandwidth: number): number[] {
  const v = values.filter(Number.isFinite);
  if (!(bandwidth > 0)) throw new RangeError(`gaussianKde: bandwidth must be > 0, got ${bandwidth}`);
  if (v.length === 0) return grid.map(() => 0);
  const c = 1 / (v.length * bandwidth * Math.sqrt(2 * Math.PI));
  return grid.map((g) => {
    let s = 0;
    for (const x of v) s += Math.exp(-0.5 * ((g - x) / bandwidth) ** 2);
    return c * s;
  });
}

/** `n` evenly spaced points from `lo` to `hi` inclusive. */
export function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}
