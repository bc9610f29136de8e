import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Categorical } from './categorical.js';
import type { Distribution, SampleStream } from './types.js';
import { checkSampleCount, notDefined } from './util.js';

/**
 * A mixture of K components of one family: `components` has batch shape `[...batchShape, K]`,
 * `mixture` (a Categorical) has batch shape `batchShape` and K categories.
 * log p(x) = logsumexp_k (log π_k + log p_k(x)).
 */
export class MixtureSameFamily implements Distribution {
  readonly mixture: Categorical;
  readonly components: Distribution;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];

  constructor(mixture: Categorical, components: Distribution) {
    const cb = components.batchShape;
    if (cb.length < 1) throw new ShapeError('components', 'batch shape [...batch, K]', [...cb]);
    const k = cb[cb.length - 1] as number;
    const batch = cb.slice(0, -1);
    if (mixture.numCategories !== k) {
      throw new ShapeError(
        'components',
        `last batch dimension = mixture categories (${mixture.numCategories})`,
        [...cb],
      );
    }
    if (mixture.batchShape.length !== batch.length || mixture.batchShape.some((d, i) => d !== batch[i])) {
      throw new ShapeError('mixture', `batch shape [${batch.join(', ')}] (components' without K)`, [
        ...mixture.batchShape,
      ]);
    }
    this.mixture = mixture;
    this.components = components;
    this.batchShape = batch;
    this.eventShape = components.eventShape;
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const e = this.eventShape.length;
      const x = tf.expandDims(value, value.shape.length - e); // [..., 1, ...event]
      const lp = this.components.logProb(x); // [..., K]
      return tf.logSumExp(tf.add(lp, this.mixture.logits), -1);
    });
  }

  /** Draw a component index per sample, then the component's draw; `[n, ...batchShape, ...eventShape]`. */
  sample(n: number, rng: SampleStream): tf.Tensor {
    checkSampleCount(n);
    return tf.tidy(() => {
      const idx = this.mixture.sample(n, rng); // [n, ...batch]
      const all = this.components.sample(n, rng); // [n, ...batch, K, ...event]
      const k = this.mixture.numCategories;
      const e = this.eventShape.length;
      let oh = tf.oneHot(idx, k); // [n, ...batch, K]
      for (let i = 0; i < e; i++) oh = tf.expandDims(oh, -1);
      return tf.sum(tf.mul(all, tf.cast(oh, all.dtype)), this.batchShape.length + 1);
    });
  }

  /** Σ_k π_k E_k[x]. */
  mean(): tf.Tensor {
    const comp = this.components;
    if (!comp.mean) throw notDefined('mean', 'this mixture (components have no mean)');
    return tf.tidy(() => {
      let w = tf.exp(this.mixture.logits);
      for (let i = 0; i < this.eventShape.length; i++) w = tf.expandDims(w, -1);
      return tf.sum(tf.mul(w, comp.mean!()), this.batchShape.length);
    });
  }

  dispose(): void {
    this.mixture.dispose();
    this.components.dispose();
  }
}
