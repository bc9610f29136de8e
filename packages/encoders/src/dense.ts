import { fusedDense } from '@gcvi/kernels';
import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Encoder, EncoderSpec, NamedTensors, ParamSpec } from './types.js';

export interface DenseOptions {
  readonly inputSize: number;
  /** Widths of the hidden layers; `[]` gives a linear map (zero at init). */
  readonly hiddenSizes: readonly number[];
  readonly outputSize: number;
  readonly activation?: 'relu';
}

export interface DenseSpec extends EncoderSpec {
  readonly kind: 'dense';
  readonly inputSize: number;
  readonly hiddenSizes: readonly number[];
  readonly outputSize: number;
  readonly activation: 'relu';
}

export interface DenseEncoder extends Encoder {
  readonly spec: DenseSpec;
  jvp(params0: NamedTensors, x: tf.Tensor, tangent: NamedTensors): { primal: tf.Tensor; tangent: tf.Tensor };
}

function checkSize(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(field, `must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * Fully connected network in the NTK parameterization of DESIGN §2 E1: no biases; weights
 * `w0 … wL` stored `[fanIn, fanOut]`; every weight ~ N(0, 1) at init except the last layer, which
 * is zero; layer l ≥ 1 divides its pre-activation by √fanIn (the first layer does not). With one
 * hidden layer of width W: f(x) = relu(x w0) w1 / √W. Input `[B, inputSize]` (or any
 * `[..., inputSize]`), output `[B, outputSize]`.
 */
export function dense(options: DenseOptions): DenseEncoder {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'must be an object');
  const inputSize = checkSize('inputSize', options.inputSize);
  const outputSize = checkSize('outputSize', options.outputSize);
  if (!Array.isArray(options.hiddenSizes)) {
    throw new ConfigError('hiddenSizes', 'must be an array of positive integers');
  }
  const hiddenSizes = options.hiddenSizes.map((h, i) => checkSize(`hiddenSizes[${i}]`, h));
  const activation = options.activation ?? 'relu';
  if (activation !== 'relu') {
    throw new ConfigError('activation', `unsupported activation '${String(activation)}'; use 'relu'`);
  }
  const sizes = [inputSize, ...hiddenSizes, outputSize];
  const nLayers = sizes.length - 1;
  const paramSpecs: ParamSpec[] = [];
  for (let l = 0; l < nLayers; l++) paramSpecs.push({ name: `w${l}`, shape: [sizes[l]!, sizes[l + 1]!] });
  const names = paramSpecs.map((s) => s.name);
  // Pre-activation scale of each layer: 1 for the first, 1/√fanIn after.
  const scales = sizes.slice(0, nLayers).map((fanIn, l) => (l === 0 ? 1 : 1 / Math.sqrt(fanIn)));
  const spec: DenseSpec = { kind: 'dense', inputSize, hiddenSizes, outputSize, activation };
  // One hidden layer with few inputs and outputs (E1: 2 → W → 2): one fused kernel of
  // @gcvi/kernels for relu(x w0) w1 / √W and one for its gradient, instead of ~10 tfjs ops each
  // (kernels also registers the gradient of that gradient, so `apply` can be differentiated twice).
  const fusable = nLayers === 2 && inputSize <= FUSED_MAX_IO && outputSize <= FUSED_MAX_IO;
  const useFused = (x: tf.Tensor, w0: tf.Tensor | undefined, w1: tf.Tensor | undefined): boolean =>
    fusable && x.dtype === 'float32' && w0?.dtype === 'float32' && w1?.dtype === 'float32';

  function as2d(x: tf.Tensor): tf.Tensor2D {
    if (x.shape[x.rank - 1] !== inputSize || x.rank < 2) {
      throw new ShapeError('x', `[batch, ${inputSize}]`, x.shape);
    }
    return (x.rank === 2 ? x : tf.reshape(x, [-1, inputSize])) as tf.Tensor2D;
  }
  function restore(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outputSize]);
  }

  return {
    spec,
    paramSpecs,
    outputSize,
    init(rng: Rng): NamedTensors {
      const out: NamedTensors = {};
      for (let l = 0; l < nLayers; l++) {
        const shape = [sizes[l]!, sizes[l + 1]!];
        out[names[l]!] = l === nLayers - 1 ? tf.zeros(shape) : rng.normalTensor(shape);
      }
      return out;
    },
    apply(params: NamedTensors, x: tf.Tensor): tf.Tensor {
      return tf.tidy(() => {
        if (useFused(x, params.w0, params.w1)) {
          return restore(x, fusedDense(as2d(x), params.w0!, params.w1!, scales[1]));
        }
        let h: tf.Tensor = as2d(x);
        for (let l = 0; l < nLayers; l++) {
          let pre = tf.matMul(h as tf.Tensor2D, params[names[l]!] as tf.Tensor2D) as tf.Tensor;
          if (scales[l] !== 1) pre = tf.mul(pre, scales[l]!);
          h = l < nLayers - 1 ? tf.relu(pre) : pre;
        }
        return restore(x, h);
      });
    },
    jvp(params0: NamedTensors, x: tf.Tensor, tangent: NamedTensors) {
      return jvpDenseImpl(params0, x, tangent);
    },
  };

  function jvpDenseImpl(params0: NamedTensors, x: tf.Tensor, tangent: NamedTensors) {
    const [primal, tan] = tf.tidy(() => {
      const x2 = as2d(x);
      let h: tf.Tensor = x2;
      let dh: tf.Tensor | null = null;
      for (let l = 0; l < nLayers; l++) {
        const w = params0[names[l]!] as tf.Tensor2D;
        const dw = tangent[names[l]!] as tf.Tensor2D;
        if (dw === undefined)
          throw new ConfigError(`tangent.${names[l]}`, 'missing tangent for this parameter');
        let pre: tf.Tensor = tf.matMul(h as tf.Tensor2D, w);
        let dpre: tf.Tensor = tf.matMul(h as tf.Tensor2D, dw);
        if (dh !== null) dpre = tf.add(dpre, tf.matMul(dh as tf.Tensor2D, w));
        if (scales[l] !== 1) {
          pre = tf.mul(pre, scales[l]!);
          dpre = tf.mul(dpre, scales[l]!);
        }
        if (l < nLayers - 1) {
          h = tf.relu(pre);
          dh = tf.mul(dpre, tf.step(pre));
        } else {
          h = pre;
          dh = dpre;
        }
      }
      // The primal is exactly what `apply` returns (the fused kernel when apply uses it).
      const primal = useFused(x, params0.w0, params0.w1)
        ? fusedDense(x2, params0.w0!, params0.w1!, scales[1])
        : h;
      return [restore(x, primal), restore(x, dh as tf.Tensor)];
    });
    return { primal, tangent: tan };
  }
}

/** Largest input and output size for which `apply` uses the fused kernel (its loops are per unit). */
const FUSED_MAX_IO = 4;

/**
 * Closed-form forward-mode derivative of a `dense` network at `params0`: returns f(x; φ0) and
 * J_φ f(x; φ0) · tangent, propagated layer by layer (d relu = step(pre) · d pre).
 */
export function jvpDense(
  encoder: DenseEncoder,
  params0: NamedTensors,
  x: tf.Tensor,
  tangent: NamedTensors,
): { primal: tf.Tensor; tangent: tf.Tensor } {
  if (encoder?.spec?.kind !== 'dense') {
    throw new ConfigError(
      'encoder',
      `jvpDense needs a dense encoder, got kind '${String(encoder?.spec?.kind)}'`,
    );
  }
  return encoder.jvp(params0, x, tangent);
}
