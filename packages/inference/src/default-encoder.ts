import { dense, type Encoder } from '@gcvi/encoders';
import { ConfigError } from '@gcvi/runtime';

/**
 * amortize's default encoder: `dense` of `@gcvi/encoders` with biases — a ReLU network in the NTK
 * parameterization, last layer (weights and bias) zero at init — so that f(0) ≠ 0 after training
 * (sbi's test point x_o = 0). Hidden sizes default to [64, 64].
 */
export function defaultEncoder(
  inputSize: number,
  outputSize: number,
  hiddenSizes: readonly number[] = [64, 64],
): Encoder {
  if (!Array.isArray(hiddenSizes))
    throw new ConfigError('encoder.hiddenSizes', 'must be an array of positive integers');
  return dense({ inputSize, hiddenSizes, outputSize, bias: true });
}
