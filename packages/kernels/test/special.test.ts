import { describe, expect, it } from 'vitest';
import { i1OverI0Number, i1OverI0OverKappaNumber, logI0Number } from '../src/special.js';

/**
 * Independent reference: I_ν(κ) e^−κ = (1/π) ∫_0^π cos(νt) e^{κ(cos t − 1)} dt, by the trapezoid
 * rule (exponentially accurate for this smooth periodic integrand).
 */
function scaledI(nu: 0 | 1, kappa: number, nodes = 40000): number {
  const h = Math.PI / nodes;
  let s = 0;
  for (let i = 0; i <= nodes; i++) {
    const t = i * h;
    const w = i === 0 || i === nodes ? 0.5 : 1;
    s += w * Math.cos(nu * t) * Math.exp(kappa * (Math.cos(t) - 1));
  }
  return (s * h) / Math.PI;
}

const KAPPAS = [
  0, 1e-8, 1e-3, 0.5, 1, 3.75, 7, 14.99, 15, 15.01, 19.99, 20, 20.01, 50, 100, 700, 1000, 1e4, 1e6,
];

describe('logI0Number, i1OverI0Number (float64) against an integral representation', () => {
  it.each(KAPPAS)('log I0(%s) matches the integral representation to 1e-12 relative', (k) => {
    const ref = k + Math.log(scaledI(0, k));
    expect(Math.abs(logI0Number(k) - ref)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref)));
  });

  it.each(KAPPAS)('I1/I0 (%s) matches the integral representation to 1e-11', (k) => {
    const ref = scaledI(1, k) / scaledI(0, k);
    expect(Math.abs(i1OverI0Number(k) - ref)).toBeLessThanOrEqual(1e-11);
  });

  it('A(κ)/κ is finite at 0 with limit 1/2, and continuous across the small-κ switch', () => {
    expect(i1OverI0OverKappaNumber(0)).toBe(0.5);
    expect(Math.abs(i1OverI0OverKappaNumber(0.999e-6) - i1OverI0OverKappaNumber(1.001e-6))).toBeLessThan(
      1e-12,
    );
    expect(Math.abs(i1OverI0OverKappaNumber(0.3) - scaledI(1, 0.3) / scaledI(0, 0.3) / 0.3)).toBeLessThan(
      1e-11,
    );
  });

  it('log I0 is even and does not overflow at huge κ', () => {
    expect(logI0Number(-3)).toBe(logI0Number(3));
    expect(Number.isFinite(logI0Number(1e300))).toBe(true);
    expect(i1OverI0Number(1e300)).toBe(1);
  });

  it('log I0(±∞) = +∞, I1/I0(±∞) = ±1, NaN stays NaN', () => {
    expect(logI0Number(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(logI0Number(Number.NEGATIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(i1OverI0Number(Number.POSITIVE_INFINITY)).toBe(1);
    expect(i1OverI0Number(Number.NEGATIVE_INFINITY)).toBe(-1);
    expect(Number.isNaN(logI0Number(Number.NaN))).toBe(true);
  });
});
