import type { Encoder, EncoderSpec, NamedTensors, ParamSpec } from '@gcvi/encoders';
import { encoderFromSpec } from '@gcvi/encoders';
import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Stopgap until `@gcvi/encoders`' `dense` has optional biases: the same NTK-parameterized ReLU
 * network (weights N(0, 1), last layer zero, pre-activations of layer l ≥ 1 divided by √fanIn)
 * with a bias per unit (zero at init), so that f(0) ≠ 0 after training (sbi's test point x_o = 0).
 */
const KIND = 'inference-dense-bias';

interface BiasDenseSpec extends EncoderSpec {
  readonly kind: typeof KIND;
  readonly inputSize: number;
  readonly hiddenSizes: readonly number[];
  readonly outputSize: number;
}

function biasDense(inputSize: number, hiddenSizes: readonly number[], outputSize: number): Encoder {
  const sizes = [inputSize, ...hiddenSizes, outputSize];
  const n = sizes.length - 1;
  const paramSpecs: ParamSpec[] = [];
  for (let l = 0; l < n; l++) {
    paramSpecs.push({ name: `w${l}`, shape: [sizes[l]!, sizes[l + 1]!] });
    paramSpecs.push({ name: `b${l}`, shape: [sizes[l + 1]!] });
  }
  const spec: BiasDenseSpec = { kind: KIND, inputSize, hiddenSizes: [...hiddenSizes], outputSize };
  return {
    spec,
    paramSpecs,
    outputSize,
    init(rng: Rng): NamedTensors {
      const out: NamedTensors = {};
      for (let l = 0; l < n; l++) {
        const shape = [sizes[l]!, sizes[l + 1]!];
        out[`w${l}`] = l === n - 1 ? tf.zeros(shape) : rng.normalTensor(shape);
        out[`b${l}`] = tf.zeros([sizes[l + 1]!]);
      }
      return out;
    },
    apply(params: NamedTensors, x: tf.Tensor): tf.Tensor {
      return tf.tidy(() => {
        if (x.rank !== 2 || x.shape[1] !== inputSize)
          throw new ShapeError('x', `[batch, ${inputSize}]`, x.shape);
        let h: tf.Tensor = x;
        for (let l = 0; l < n; l++) {
          let pre = tf.matMul(h as tf.Tensor2D, params[`w${l}`] as tf.Tensor2D) as tf.Tensor;
          if (l > 0) pre = tf.mul(pre, 1 / Math.sqrt(sizes[l]!));
          pre = tf.add(pre, params[`b${l}`] as tf.Tensor);
          h = l < n - 1 ? tf.relu(pre) : pre;
        }
        return h;
      });
    },
  };
}

/** amortize's default encoder: a ReLU network with biases, hidden sizes `hiddenSizes` (default [64, 64]). */
export function defaultEncoder(
  inputSize: number,
  outputSize: number,
  hiddenSizes: readonly number[] = [64, 64],
): Encoder {
  for (const [i, h] of hiddenSizes.entries()) {
    if (!Number.isInteger(h) || h <= 0)
      throw new ConfigError(`encoder.hiddenSizes[${i}]`, `must be a positive integer, got ${h}`);
  }
  return biasDense(inputSize, hiddenSizes, outputSize);
}

/** `encoderFromSpec` of `@gcvi/encoders`, plus the kinds this package defines. */
export function rebuildEncoder(spec: EncoderSpec): Encoder {
  if (spec?.kind === KIND) {
    const s = spec as BiasDenseSpec;
    return biasDense(s.inputSize, s.hiddenSizes, s.outputSize);
  }
  return encoderFromSpec(spec);
}
