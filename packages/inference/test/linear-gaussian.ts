import { choleskyNumber, MultivariateNormal } from '@gcvi/distributions';
import type { Simulator } from '@gcvi/inference';
import type { Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Linear Gaussian model (test reference): θ ~ N(0, I₂), x = A θ + b + ε, ε ~ N(0, S). The exact
 * posterior is Gaussian with precision Λ = I + Aᵀ S⁻¹ A and mean Λ⁻¹ Aᵀ S⁻¹ (x − b), in float64.
 */
export const A = [
  [1.0, 0.5],
  [-0.3, 0.8],
];
export const B = [0.5, -0.5];
export const S = [
  [0.25, 0.1],
  [0.1, 0.36],
];
const d = 2;

function inv2(m: number[][]): number[][] {
  const [[a, b], [c, e]] = m as [[number, number], [number, number]];
  const det = a * e - b * c;
  return [
    [e / det, -b / det],
    [-c / det, a / det],
  ];
}
const matmul = (x: number[][], y: number[][]) =>
  x.map((row) => y[0]!.map((_, j) => row.reduce((s, v, k) => s + v * (y[k]![j] as number), 0)));
const transpose = (x: number[][]) => x[0]!.map((_, j) => x.map((r) => r[j] as number));

const Sinv = inv2(S);
const AtSinv = matmul(transpose(A), Sinv);
const prec = matmul(AtSinv, A).map((r, i) => r.map((v, j) => v + (i === j ? 1 : 0)));
export const posteriorCov = inv2(prec);

export function posteriorMean(x: number[]): number[] {
  const r = x.map((v, i) => v - (B[i] as number));
  const t = AtSinv.map((row) => row.reduce((s, v, k) => s + v * (r[k] as number), 0));
  return posteriorCov.map((row) => row.reduce((s, v, k) => s + v * (t[k] as number), 0));
}

export function exactPosterior(x: number[]): MultivariateNormal {
  return MultivariateNormal.fromLocCovariance(posteriorMean(x), posteriorCov.flat());
}

const sChol = choleskyNumber(S.flat(), d);

export const linearGaussian: Simulator = {
  sample(n: number, rng: Rng) {
    const th = rng.fillNormal(new Float64Array(n * d));
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const e0 = rng.normal();
      const e1 = rng.normal();
      const eps = [sChol[0]! * e0, sChol[2]! * e0 + sChol[3]! * e1];
      for (let r = 0; r < d; r++) {
        let v = (B[r] as number) + (eps[r] as number);
        for (let k = 0; k < d; k++) v += (A[r]![k] as number) * (th[i * d + k] as number);
        x[i * d + r] = v;
      }
    }
    return { theta: tf.tensor2d(Float32Array.from(th), [n, d]), x: tf.tensor2d(x, [n, d]) };
  },
};

/** KL(p ‖ q) between two d-dim Gaussians given by mean and covariance, float64. */
export function gaussianKl(m0: number[], c0: number[][], m1: number[], c1: number[][]): number {
  const c1i = inv2(c1);
  const tr = matmul(c1i, c0).reduce((s, r, i) => s + (r[i] as number), 0);
  const dm = m1.map((v, i) => v - (m0[i] as number));
  const q = dm.reduce((s, v, i) => s + v * c1i[i]!.reduce((t, w, j) => t + w * (dm[j] as number), 0), 0);
  const det = (m: number[][]) =>
    (m[0]![0] as number) * (m[1]![1] as number) - (m[0]![1] as number) * (m[1]![0] as number);
  return 0.5 * (tr + q - d + Math.log(det(c1) / det(c0)));
}
