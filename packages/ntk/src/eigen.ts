import { NumericalError, ShapeError } from '@gcvi/runtime';

/**
 * Eigenvalues of a real symmetric n×n matrix (row-major, float64) by the cyclic Jacobi method,
 * sorted in decreasing order. Accurate to a few ulps of the largest |λ| (Jacobi is backward stable
 * and, for positive definite matrices, also relatively accurate for small eigenvalues). Only the
 * upper triangle's symmetry is checked loosely: asymmetry beyond 1e-8 · max|a| is an error.
 */
export function symmetricEigenvalues(matrix: ArrayLike<number>, n: number): Float64Array {
  if (!Number.isInteger(n) || n <= 0) throw new NumericalError('n', `must be a positive integer, got ${n}`);
  if (matrix.length !== n * n)
    throw new ShapeError('matrix', `[${n * n}] (${n}×${n} row-major)`, [matrix.length]);
  const a = Float64Array.from(matrix);
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number;
    if (!Number.isFinite(v))
      throw new NumericalError('matrix', `must be finite, found ${v} at flat index ${i}`);
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = Math.abs((a[i * n + j] as number) - (a[j * n + i] as number));
      if (d > 1e-8 * maxAbs) {
        throw new NumericalError(
          'matrix',
          `must be symmetric; entries (${i}, ${j}) and (${j}, ${i}) differ by ${d}`,
        );
      }
      // Symmetrize exactly.
      const m = 0.5 * ((a[i * n + j] as number) + (a[j * n + i] as number));
      a[i * n + j] = m;
      a[j * n + i] = m;
    }
  }
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += (a[i * n + j] as number) ** 2;
    if (off === 0 || Math.sqrt(off) <= 1e-300) break;
    let rotated = false;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        // Skip rotations that cannot change the diagonal in float64.
        if (Math.abs(apq) <= 1e-18 * Math.sqrt(Math.abs(app * aqq)) || apq === 0) continue;
        rotated = true;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
    if (!rotated) break;
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = a[i * n + i] as number;
  return ev.sort().reverse();
}

/** Smallest eigenvalue of a symmetric matrix (see `symmetricEigenvalues`). */
export function minEigenvalue(matrix: ArrayLike<number>, n: number): number {
  const ev = symmetricEigenvalues(matrix, n);
  return ev[n - 1] as number;
}

/** Eigenvalues sorted by decreasing absolute value (|λ1| ≥ |λ2| ≥ …), signs kept. */
export function eigenvaluesByMagnitude(matrix: ArrayLike<number>, n: number): Float64Array {
  const ev = symmetricEigenvalues(matrix, n);
  return Float64Array.from(Array.from(ev).sort((u, v) => Math.abs(v) - Math.abs(u)));
}
