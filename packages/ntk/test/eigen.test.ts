import { createRng, NumericalError } from '@gcvi/runtime';
import { describe, expect, it } from 'vitest';
import { eigenvaluesByMagnitude, minEigenvalue, symmetricEigenvalues } from '../src/index.js';

/** Q diag(λ) Qᵀ with Q a product of random Householder reflections (orthogonal by construction). */
function withSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const rng = createRng(seed);
  let m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = lambda[i]!;
  for (let r = 0; r < 3; r++) {
    const v = rng.fillNormal(new Float64Array(n));
    const norm2 = v.reduce((s, a) => s + a * a, 0);
    // H = I − 2 v vᵀ / (vᵀv); m ← H m H
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) h[i * n + j] = (i === j ? 1 : 0) - (2 * v[i]! * v[j]!) / norm2;
    const mul = (a: Float64Array, b: Float64Array) => {
      const c = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < n; k++)
          for (let j = 0; j < n; j++) c[i * n + j]! += a[i * n + k]! * b[k * n + j]!;
      return c;
    };
    m = mul(mul(h, m), h);
  }
  // Exact symmetry (rounding can leave ~1e-16 asymmetry).
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (m[i * n + j]! + m[j * n + i]!);
      m[i * n + j] = s;
      m[j * n + i] = s;
    }
  return m;
}

describe('symmetricEigenvalues (Jacobi, float64)', () => {
  it('recovers a known spectrum, including tiny and negative eigenvalues', () => {
    const lambda = [5, 2.5, 1, 0.3, 1e-9, -0.7, -3, 0.01];
    const m = withSpectrum(lambda, 1);
    const ev = symmetricEigenvalues(m, lambda.length);
    const sorted = [...lambda].sort((a, b) => b - a);
    for (let i = 0; i < ev.length; i++) expect(Math.abs(ev[i]! - sorted[i]!)).toBeLessThan(1e-13);
    expect(minEigenvalue(m, lambda.length)).toBeCloseTo(-3, 12);
    const byMag = eigenvaluesByMagnitude(m, lambda.length);
    expect(Array.from(byMag.slice(0, 3))).toEqual([
      expect.closeTo(5, 12),
      expect.closeTo(-3, 12),
      expect.closeTo(2.5, 12),
    ]);
  });

  it('matches the 2×2 closed form', () => {
    const [a, b, c] = [0.3, -1.7, 2.2];
    const ev = symmetricEigenvalues([a, b, b, c], 2);
    const mid = (a + c) / 2;
    const rad = Math.hypot((a - c) / 2, b);
    expect(ev[0]).toBeCloseTo(mid + rad, 14);
    expect(ev[1]).toBeCloseTo(mid - rad, 14);
  });

  it('handles a 60×60 positive definite matrix with condition number 1e10', () => {
    const lambda = Array.from({ length: 60 }, (_, i) => 10 ** (-10 * (i / 59)));
    const ev = symmetricEigenvalues(withSpectrum(lambda, 2), 60);
    // Absolute accuracy ~ n · ulp · ‖A‖.
    expect(Math.abs(ev[59]! - 1e-10)).toBeLessThan(1e-13);
    expect(Math.abs(ev[0]! - 1)).toBeLessThan(1e-13);
  });

  it('names bad input', () => {
    expect(() => symmetricEigenvalues([1, 2, 3, 4], 2)).toThrow(/matrix: must be symmetric/);
    expect(() => symmetricEigenvalues([1, 2, 3], 2)).toThrow(/matrix: expected shape/);
    expect(() => symmetricEigenvalues([1, Number.NaN, Number.NaN, 1], 2)).toThrow(NumericalError);
  });
});
