/**
 * Modified Bessel functions for the von Mises distribution, in float64 JS: log I0(κ) and the mean
 * resultant length A(κ) = I1(κ)/I0(κ), both stable for every κ ≥ 0 (no overflow at large κ).
 *
 * κ ≤ 15: the power series I_ν(κ) = Σ (κ/2)^(2m+ν) / (m! (m+ν)!) (positive terms, no
 * cancellation; ≤ 60 terms to 1e-17). κ > 15: the Hankel asymptotic expansion
 * I_ν(κ) ≈ e^κ / √(2πκ) Σ_k (−1)^k a_k(ν) / κ^k, summed while its terms shrink (error < 1e-15).
 */

const SERIES_MAX = 15;

function seriesI(nu: 0 | 1, k: number): number {
  const q = (k * k) / 4;
  let term = nu === 0 ? 1 : k / 2;
  let sum = term;
  for (let m = 1; m < 200; m++) {
    term *= q / (m * (m + nu));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Σ_k (−1)^k a_k(ν) / κ^k of the Hankel expansion (I_ν(κ) = e^κ/√(2πκ) · this). */
function hankelSum(nu: 0 | 1, k: number): number {
  const mu = 4 * nu * nu;
  let term = 1;
  let sum = 1;
  for (let j = 1; j < 40; j++) {
    const next = (-term * (mu - (2 * j - 1) ** 2)) / (j * 8 * k);
    if (Math.abs(next) >= Math.abs(term)) break;
    term = next;
    sum += term;
    if (Math.abs(term) < 1e-17) break;
  }
  return sum;
}

/** log I0(κ) for κ ≥ 0 (κ is used through |κ|: I0 is even). */
export function logI0(kappa: number): number {
  const k = Math.abs(kappa);
  if (k <= SERIES_MAX) return Math.log(seriesI(0, k));
  return k - 0.5 * Math.log(2 * Math.PI * k) + Math.log(hankelSum(0, k));
}

/** A(κ) = I1(κ)/I0(κ) = d log I0 / dκ, for κ ≥ 0; A(0) = 0, A(κ) → 1 as κ → ∞. */
export function besselRatio(kappa: number): number {
  const k = Math.abs(kappa);
  const a = k <= SERIES_MAX ? seriesI(1, k) / seriesI(0, k) : hankelSum(1, k) / hankelSum(0, k);
  return kappa < 0 ? -a : a;
}

/** A(κ)/κ, finite at κ = 0 (limit 1/2): what the gradient of log I0(‖η‖) w.r.t. η needs. */
export function besselRatioOverKappa(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < 1e-6) return 0.5 - (k * k) / 16;
  return besselRatio(k) / k;
}
