import { broadcastShapes, NumericalError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, DistributionOptions, SampleStream } from './types.js';
import { checkSampleCount, detached, type Param, stopGradient, toTensor } from './util.js';

/** Uniform on [low, high), batched by broadcasting; event shape `[]`. log p = −log(high − low) inside, −∞ outside. */
export class Uniform implements Distribution {
  readonly low: tf.Tensor;
  readonly high: tf.Tensor;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  private readonly owned: tf.Tensor[] = [];

  constructor(low: Param, high: Param, opts: DistributionOptions = {}) {
    const validate = opts.validateArgs ?? true;
    this.low = toTensor('low', low, validate, this.owned);
    this.high = toTensor('high', high, validate, this.owned);
    this.batchShape = broadcastShapes(this.high.shape, this.low.shape, ['high', 'low']);
    if (validate) {
      const w = tf.tidy(() => tf.sub(this.high, this.low).dataSync());
      for (let i = 0; i < w.length; i++) {
        if (!((w[i] as number) > 0)) {
          throw new NumericalError(
            'high',
            `must be > low everywhere, high − low = ${w[i]} at flat index ${i}`,
          );
        }
      }
    }
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const inside = detached(
        (v, lo, hi) => tf.logicalAnd(tf.greaterEqual(v, lo as tf.Tensor), tf.less(v, hi as tf.Tensor)),
        value,
        this.low,
        this.high,
      );
      const lp = tf.broadcastTo(tf.neg(tf.log(tf.sub(this.high, this.low))), inside.shape);
      return tf.where(inside, lp, tf.fill(inside.shape, Number.NEGATIVE_INFINITY));
    });
  }

  /** low + (high − low)·u, u ~ U[0, 1) from `rng`; differentiable in low and high. */
  rsample(n: number, rng: SampleStream): tf.Tensor {
    checkSampleCount(n);
    return tf.tidy(() => {
      const u = rng.uniformTensor([n, ...this.batchShape]);
      return tf.add(this.low, tf.mul(tf.sub(this.high, this.low), u));
    });
  }

  sample(n: number, rng: SampleStream): tf.Tensor {
    return tf.tidy(() => stopGradient(this.rsample(n, rng)));
  }

  mean(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.mul(0.5, tf.add(this.low, this.high)), [...this.batchShape]));
  }

  variance(): tf.Tensor {
    return tf.tidy(() =>
      tf.broadcastTo(tf.div(tf.square(tf.sub(this.high, this.low)), 12), [...this.batchShape]),
    );
  }

  entropy(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.log(tf.sub(this.high, this.low)), [...this.batchShape]));
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}
