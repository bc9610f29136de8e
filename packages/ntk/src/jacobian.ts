import type { DenseEncoder, Encoder, NamedTensors } from '@gcvi/encoders';
import { checkParams, numParams } from '@gcvi/encoders';
import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * How to compute per-example Jacobians: `autodiff` loops over examples and outputs with `tf.grads`
 * (any encoder; tfjs has no vmap), `dense` uses the closed form of a `dense` encoder (all examples
 * at once), `auto` picks `dense` when the encoder is one.
 */
export type JacobianMethod = 'auto' | 'autodiff' | 'dense';

export interface JacobianOptions {
  /** Default `autodiff` for `jacobian`, `auto` everywhere else. */
  readonly method?: JacobianMethod;
}

function checkInput(encoder: Encoder, x: tf.Tensor): number {
  if (!(x instanceof tf.Tensor) || x.rank < 1) {
    throw new ShapeError('x', '[batch, ...input]', x instanceof tf.Tensor ? x.shape : []);
  }
  const b = x.shape[0] as number;
  if (b === 0) throw new ShapeError('x', '[batch ≥ 1, ...input]', x.shape);
  void encoder;
  return b;
}

function isDense(encoder: Encoder): encoder is DenseEncoder {
  return encoder?.spec?.kind === 'dense';
}

/** The closed form below covers dense encoders without biases only. */
function hasClosedForm(encoder: Encoder): encoder is DenseEncoder {
  return isDense(encoder) && encoder.spec.bias !== true;
}

/**
 * Per-example Jacobians of `encoder` with respect to its flat parameter vector (the order of
 * `encoder.paramSpecs`, each tensor row-major, as `flatten` in `@gcvi/encoders`):
 * J[b, o, p] = ∂ f(x_b)_o / ∂ φ_p, shape `[B, outputSize, P]`.
 *
 * The general path (default) runs one backward pass per example and output inside `tf.tidy`, so
 * it costs B · outputSize backward passes; pass `{ method: 'auto' }` to use the closed form for
 * `dense` encoders.
 */
export function jacobian(
  encoder: Encoder,
  params: NamedTensors,
  x: tf.Tensor,
  options: JacobianOptions = {},
): tf.Tensor3D {
  const method = options.method ?? 'autodiff';
  if (method === 'dense' || (method === 'auto' && hasClosedForm(encoder)))
    return jacobianDense(encoder, params, x);
  if (method !== 'autodiff' && method !== 'auto') {
    throw new ConfigError('method', `must be 'auto', 'autodiff' or 'dense', got '${String(method)}'`);
  }
  checkParams('params', params, encoder.paramSpecs);
  const b = checkInput(encoder, x);
  const names = encoder.paramSpecs.map((s) => s.name);
  const tensors = names.map((n) => params[n] as tf.Tensor);
  const out = encoder.outputSize;
  const p = numParams(encoder.paramSpecs);
  const rows: tf.Tensor[] = [];
  try {
    for (let i = 0; i < b; i++) {
      const xi = tf.slice(x, [i], [1]);
      try {
        for (let o = 0; o < out; o++) {
          rows.push(
            tf.tidy(() => {
              const f = (...ps: tf.Tensor[]): tf.Scalar => {
                const named: NamedTensors = {};
                for (let k = 0; k < names.length; k++) named[names[k] as string] = ps[k] as tf.Tensor;
                const y = encoder.apply(named, xi);
                if (y.size !== out) {
                  throw new ShapeError('encoder.apply(params, x[i])', `[1, ${out}]`, y.shape);
                }
                return tf.reshape(tf.slice(tf.reshape(y, [out]), [o], [1]), []) as tf.Scalar;
              };
              const grads = tf.grads(f)(tensors);
              return tf.concat(grads.map((g) => tf.reshape(g, [-1])));
            }),
          );
        }
      } finally {
        xi.dispose();
      }
    }
    return tf.tidy(() => tf.reshape(tf.stack(rows), [b, out, p])) as tf.Tensor3D;
  } finally {
    tf.dispose(rows);
  }
}

/**
 * Closed-form per-example Jacobians of a `dense` encoder (NTK parameterization, no biases,
 * f = h_L with z_l = s_l h_l W_l, h_{l+1} = relu(z_l), s_0 = 1, s_l = 1/√fanIn for l ≥ 1):
 * ∂f_o/∂W_l[i, j] = s_l h_l[i] δ_l[o, j], with δ_L = I and δ_{l−1} = s_l (δ_l W_lᵀ) ⊙ step(z_{l−1}).
 * For one hidden layer of width W: ∂f_o/∂w1[j, o'] = [o = o'] relu(x·w0_j)/√W and
 * ∂f_o/∂w0[i, j] = x_i 1{x·w0_j > 0} w1[j, o]/√W. Vectorized over the batch. Shape `[B, out, P]`.
 */
export function jacobianDense(encoder: Encoder, params: NamedTensors, x: tf.Tensor): tf.Tensor3D {
  if (!isDense(encoder)) {
    throw new ConfigError(
      'encoder',
      `jacobianDense needs a dense encoder, got kind '${String(encoder?.spec?.kind)}'`,
    );
  }
  if (encoder.spec.bias === true) {
    throw new ConfigError(
      'encoder',
      "jacobianDense covers dense encoders without biases; use method 'autodiff' (or 'auto') for bias: true",
    );
  }
  checkParams('params', params, encoder.paramSpecs);
  checkInput(encoder, x);
  const { inputSize, hiddenSizes, outputSize } = encoder.spec;
  if (x.rank !== 2 || x.shape[1] !== inputSize) throw new ShapeError('x', `[batch, ${inputSize}]`, x.shape);
  const sizes = [inputSize, ...hiddenSizes, outputSize];
  const nLayers = sizes.length - 1;
  const names = encoder.paramSpecs.map((s) => s.name);
  const b = x.shape[0] as number;
  return tf.tidy(() => {
    // Forward pass, keeping each layer's input h_l and pre-activation z_l.
    const hs: tf.Tensor2D[] = [x as tf.Tensor2D];
    const zs: tf.Tensor2D[] = [];
    const scale = (l: number) => (l === 0 ? 1 : 1 / Math.sqrt(sizes[l] as number));
    for (let l = 0; l < nLayers; l++) {
      const z = tf.mul(tf.matMul(hs[l] as tf.Tensor2D, params[names[l] as string] as tf.Tensor2D), scale(l));
      zs.push(z as tf.Tensor2D);
      if (l < nLayers - 1) hs.push(tf.relu(z) as tf.Tensor2D);
    }
    // Backward: delta_l = ∂f/∂z_l, [B, out, n_{l+1}].
    const blocks: tf.Tensor[] = new Array(nLayers);
    let delta: tf.Tensor3D = tf.tile(tf.expandDims(tf.eye(outputSize), 0), [b, 1, 1]) as tf.Tensor3D;
    for (let l = nLayers - 1; l >= 0; l--) {
      const nIn = sizes[l] as number;
      const nOut = sizes[l + 1] as number;
      // ∂f_o/∂W_l[i, j] = s_l h_l[i] δ_l[o, j]  →  [B, out, nIn, nOut] → [B, out, nIn·nOut]
      const h = tf.reshape(tf.mul(hs[l] as tf.Tensor2D, scale(l)), [b, 1, nIn, 1]);
      const d = tf.reshape(delta, [b, outputSize, 1, nOut]);
      blocks[l] = tf.reshape(tf.mul(h, d), [b, outputSize, nIn * nOut]);
      if (l > 0) {
        // δ_{l−1} = s_l (δ_l W_lᵀ) ⊙ step(z_{l−1})
        const w = params[names[l] as string] as tf.Tensor2D;
        const back = tf.reshape(tf.matMul(tf.reshape(delta, [b * outputSize, nOut]), w, false, true), [
          b,
          outputSize,
          nIn,
        ]);
        const gate = tf.expandDims(tf.step(zs[l - 1] as tf.Tensor2D), 1);
        delta = tf.mul(tf.mul(back, gate), scale(l)) as tf.Tensor3D;
      }
    }
    return tf.concat(blocks, 2) as tf.Tensor3D;
  });
}
