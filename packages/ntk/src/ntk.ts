import type { Encoder, NamedTensors } from '@gcvi/encoders';
import * as tf from '@tensorflow/tfjs-core';
import type { Matrix } from './infinite.js';
import { type JacobianOptions, jacobian } from './jacobian.js';

/**
 * The empirical NTK K(x, x') = J(x) J(x')ᵀ of `encoder` at `params`, with J the Jacobian with
 * respect to all parameters: shape `[B1, B2, out, out]`, K[a, b] = J(x1_a) J(x2_b)ᵀ. `x2` defaults
 * to `x1`. Float32 (a tfjs matmul); use `ntkGram` for a float64 Gram matrix. Method default `auto`
 * (closed form for `dense` encoders).
 */
export function empiricalNtk(
  encoder: Encoder,
  params: NamedTensors,
  x1: tf.Tensor,
  x2?: tf.Tensor,
  options: JacobianOptions = {},
): tf.Tensor4D {
  const opts = { method: options.method ?? 'auto' };
  const j1 = jacobian(encoder, params, x1, opts);
  const j2 = x2 === undefined ? j1 : jacobian(encoder, params, x2, opts);
  try {
    return tf.tidy(() => {
      const [b1, out, p] = j1.shape;
      const b2 = j2.shape[0];
      const k = tf.matMul(tf.reshape(j1, [b1 * out, p]), tf.reshape(j2, [b2 * out, p]), false, true);
      return tf.transpose(tf.reshape(k, [b1, out, b2, out]), [0, 2, 1, 3]) as tf.Tensor4D;
    });
  } finally {
    j1.dispose();
    if (j2 !== j1) j2.dispose();
  }
}

/**
 * Float64 Gram of rows of a row-major `[n, p]` float array: G = A Aᵀ, `[n, n]`. The inner loop
 * runs over contiguous memory; cost n²p/2.
 */
export function gramRows(a: ArrayLike<number>, n: number, p: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * p;
    for (let j = 0; j <= i; j++) {
      const oj = j * p;
      let s = 0;
      for (let k = 0; k < p; k++) s += (a[oi + k] as number) * (a[oj + k] as number);
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  }
  return g;
}

/**
 * The empirical NTK Gram matrix on a set of N inputs as a float64 matrix of size (N·out)²,
 * indexed by (example, output) pairs, row (i·out + o): G[(i,o), (j,o')] = ⟨J(x_i)_o, J(x_j)_o'⟩.
 * The Jacobian is computed by tfjs in float32 and the products are accumulated in float64, so the
 * small eigenvalues are not lost to float32 summation. Pass to `minEigenvalue` to check that
 * the NTK on the set is positive definite (the assumption of the paper's convergence theorem).
 *
 * Note that a finite network's Gram has rank at most P (its parameter count); at the E1
 * initialization (zero last layer) only the W·out last-layer parameters contribute, so the Gram of
 * more than W inputs is singular there.
 */
export function ntkGram(
  encoder: Encoder,
  params: NamedTensors,
  x: tf.Tensor,
  options: JacobianOptions = {},
): Matrix {
  const j = jacobian(encoder, params, x, { method: options.method ?? 'auto' });
  try {
    const [b, out, p] = j.shape;
    const data = gramRows(j.dataSync(), b * out, p);
    return { rows: b * out, cols: b * out, data };
  } finally {
    j.dispose();
  }
}
