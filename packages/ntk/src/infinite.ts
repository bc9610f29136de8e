import { ConfigError, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/** A dense float64 matrix, row-major. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Inputs as a `[B, d]` tensor or an array of B points of dimension d. */
export type PointsInput = tf.Tensor | ReadonlyArray<ArrayLike<number>>;

/**
 * Which part of the two-layer NTK: `both` (default) is the kernel of training both layers with a
 * last layer ~ N(0, 1); `lastLayer` is the part from the last layer's gradient, E[relu(w·x) relu(w·x')]
 * (the only part present at a zero last layer, as at the E1 initialization); `firstLayer` is the
 * rest, (x·x') E[1{w·x > 0} 1{w·x' > 0}] E[v²] with v the last-layer weight (E[v²] = 1).
 */
export type NtkTerm = 'both' | 'lastLayer' | 'firstLayer';

export interface InfiniteWidthNtkOptions {
  readonly term?: NtkTerm;
}

/** Points as float64 rows, validated. */
export function toPoints(name: string, x: PointsInput): { n: number; d: number; data: Float64Array } {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new ShapeError(name, '[batch, dim]', x.shape);
    const [n, d] = x.shape as [number, number];
    const src = x.dataSync();
    const data = Float64Array.from(src);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new NumericalError(name, `must be finite, found ${data[i]}`);
    }
    return { n, d, data };
  }
  if (!Array.isArray(x) || x.length === 0) throw new ShapeError(name, '[batch ≥ 1, dim]', [0]);
  const d = (x[0] as ArrayLike<number>).length;
  const data = new Float64Array(x.length * d);
  for (let i = 0; i < x.length; i++) {
    const row = x[i] as ArrayLike<number>;
    if (row.length !== d) throw new ShapeError(`${name}[${i}]`, `[${d}]`, [row.length]);
    for (let k = 0; k < d; k++) {
      const v = row[k] as number;
      if (!Number.isFinite(v)) throw new NumericalError(`${name}[${i}]`, `must be finite, found ${v}`);
      data[i * d + k] = v;
    }
  }
  return { n: x.length, d, data };
}

/**
 * Arc-cosine kernels (Cho & Saul 2009) for w ~ N(0, I_d), in closed form, with
 * ψ = angle(x, x') ∈ [0, π]:
 *   degree 0: E[1{w·x > 0} 1{w·x' > 0}] = (π − ψ) / (2π)
 *   degree 1: E[relu(w·x) relu(w·x')]   = ‖x‖‖x'‖ (sin ψ + (π − ψ) cos ψ) / (2π)
 * A zero vector has no angle: both are returned as 0 (degree 1 is exactly 0, and degree 0 enters
 * the NTK only multiplied by x·x' = 0).
 */
export function arcCosineKernels(x: ArrayLike<number>, y: ArrayLike<number>): { k0: number; k1: number } {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i] as number;
    const b = y[i] as number;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  const nx = Math.sqrt(xx);
  const ny = Math.sqrt(yy);
  if (nx === 0 || ny === 0) return { k0: 0, k1: 0 };
  // Clamp cos ψ into [−1, 1] against rounding; acos is ill-conditioned near ±1, so get ψ from
  // atan2(‖x × y‖, x·y) with the cross norm from Lagrange's identity, computed stably.
  const cross2 = Math.max(0, xx * yy - xy * xy);
  const psi = Math.atan2(Math.sqrt(cross2), xy);
  const k0 = (Math.PI - psi) / (2 * Math.PI);
  const k1 = (nx * ny * (Math.sin(psi) + (Math.PI - psi) * Math.cos(psi))) / (2 * Math.PI);
  return { k0, k1 };
}

/**
 * The analytic infinite-width NTK of the one-hidden-layer ReLU network of DESIGN §2 E1 in the NTK
 * parameterization, f(x) = relu(x W0) W1 / √W with W0, W1 ~ N(0, 1) entries and no biases:
 *
 *   Θ(x, x') = E[relu(w·x) relu(w·x')] + (x·x') E[1{w·x > 0} 1{w·x' > 0}],   times I_outputs.
 *
 * Derivation: ∂f_o/∂W1[j, o] = relu(w_j·x)/√W gives (1/W) Σ_j relu(w_j·x) relu(w_j·x') → the
 * first term (the `lastLayer` part); ∂f_o/∂w_j = W1[j, o] 1{w_j·x > 0} x/√W gives
 * (1/W) Σ_j W1[j, o] W1[j, o'] 1{·}1{·} x·x' → δ_{oo'} E[W1²] (x·x') k0 (the `firstLayer` part;
 * the cross-output terms average to zero). The kernel does not depend on the output count, so this
 * returns the scalar kernel matrix `[B1, B2]`; the full NTK is it ⊗ I_out.
 *
 * At the E1 initialization the last layer is zero, so the empirical NTK at φ0 has only the
 * `lastLayer` part (the first-layer Jacobian vanishes): compare it with `{ term: 'lastLayer' }`, or
 * compare the full kernel with the empirical NTK at a last layer drawn N(0, 1).
 */
export function infiniteWidthNtk(
  x1: PointsInput,
  x2?: PointsInput,
  options: InfiniteWidthNtkOptions = {},
): Matrix {
  const term = options.term ?? 'both';
  if (term !== 'both' && term !== 'lastLayer' && term !== 'firstLayer') {
    throw new ConfigError('term', `must be 'both', 'lastLayer' or 'firstLayer', got '${String(term)}'`);
  }
  const a = toPoints('x1', x1);
  const b = x2 === undefined ? a : toPoints('x2', x2);
  if (a.d !== b.d) throw new ShapeError('x2', `[batch, ${a.d}] (same dimension as x1)`, [b.n, b.d]);
  const data = new Float64Array(a.n * b.n);
  for (let i = 0; i < a.n; i++) {
    const xi = a.data.subarray(i * a.d, (i + 1) * a.d);
    for (let j = 0; j < b.n; j++) {
      const yj = b.data.subarray(j * b.d, (j + 1) * b.d);
      const { k0, k1 } = arcCosineKernels(xi, yj);
      let dot = 0;
      for (let k = 0; k < a.d; k++) dot += (xi[k] as number) * (yj[k] as number);
      data[i * b.n + j] = (term === 'firstLayer' ? 0 : k1) + (term === 'lastLayer' ? 0 : dot * k0);
    }
  }
  return { rows: a.n, cols: b.n, data };
}
