import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, SampleStream } from './types.js';
import { notDefined } from './util.js';

/**
 * Reinterpret the last `reinterpretedBatchNdims` batch dimensions of `base` as event dimensions:
 * log p sums the base log-densities over them.
 */
export class Independent implements Distribution {
  readonly base: Distribution;
  readonly reinterpretedBatchNdims: number;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  /** Reparameterized draws: present exactly when the base distribution has `rsample`. */
  readonly rsample?: (n: number, rng: SampleStream) => tf.Tensor;

  constructor(base: Distribution, reinterpretedBatchNdims: number) {
    const nb = base.batchShape.length;
    if (
      !Number.isInteger(reinterpretedBatchNdims) ||
      reinterpretedBatchNdims < 0 ||
      reinterpretedBatchNdims > nb
    ) {
      throw new ConfigError(
        'reinterpretedBatchNdims',
        `must be an integer in [0, ${nb}] (the base batch rank), got ${reinterpretedBatchNdims}`,
      );
    }
    this.base = base;
    this.reinterpretedBatchNdims = reinterpretedBatchNdims;
    this.batchShape = base.batchShape.slice(0, nb - reinterpretedBatchNdims);
    this.eventShape = [...base.batchShape.slice(nb - reinterpretedBatchNdims), ...base.eventShape];
    const rs = base.rsample;
    if (rs) this.rsample = (n, rng) => rs.call(base, n, rng);
  }

  private sumLast(t: tf.Tensor): tf.Tensor {
    const n = this.reinterpretedBatchNdims;
    if (n === 0) return t;
    const axes = Array.from({ length: n }, (_, i) => t.shape.length - n + i);
    return tf.sum(t, axes);
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.sumLast(this.base.logProb(value)));
  }

  sample(n: number, rng: SampleStream): tf.Tensor {
    return this.base.sample(n, rng);
  }

  mean(): tf.Tensor {
    if (!this.base.mean) throw notDefined('mean', 'this base distribution');
    return this.base.mean();
  }

  mode(): tf.Tensor {
    if (!this.base.mode) throw notDefined('mode', 'this base distribution');
    return this.base.mode();
  }

  /**
   * Elementwise variance of the base, `[...batchShape, ...eventShape]` (the reinterpreted dimensions
   * are independent, so their covariance is diagonal).
   */
  variance(): tf.Tensor {
    if (!this.base.variance) throw notDefined('variance', 'this base distribution');
    return this.base.variance();
  }

  entropy(): tf.Tensor {
    const base = this.base;
    if (!base.entropy) throw notDefined('entropy', 'this base distribution');
    return tf.tidy(() => this.sumLast(base.entropy!()));
  }

  dispose(): void {
    this.base.dispose();
  }
}
