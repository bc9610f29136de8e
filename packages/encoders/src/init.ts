import type { Rng } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * PyTorch's default initialisation of `nn.Linear` / `nn.Conv2d` weights and biases:
 * kaiming-uniform with a = √5, which is Uniform(−1/√fanIn, 1/√fanIn) for both.
 */
export function torchDefaultUniform(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return rng.uniformTensor(shape, -bound, bound);
}

/** Glorot / Xavier uniform: Uniform(−b, b), b = √(6 / (fanIn + fanOut)). */
export function xavierUniform(rng: Rng, shape: number[], fanIn: number, fanOut: number): tf.Tensor {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniformTensor(shape, -bound, bound);
}
