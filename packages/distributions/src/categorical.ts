import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, DistributionOptions, SampleStream } from './types.js';
import { checkSampleCount, checkTensorNonNegative, detachedCompare, sizeOf, toTensor } from './util.js';

export type CategoricalParams =
  | { logits: tf.Tensor; probs?: undefined }
  | { probs: tf.Tensor; logits?: undefined };

/**
 * Categorical over {0, …, K−1} from `logits` (unnormalized log-probabilities) or `probs`
 * (non-negative, normalized along the last axis). Parameters `[...batchShape, K]`; event shape `[]`;
 * samples are int32.
 */
export class Categorical implements Distribution {
  /** Normalized log-probabilities `[...batchShape, K]`. */
  readonly logits: tf.Tensor;
  readonly numCategories: number;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  private readonly owned: tf.Tensor[] = [];

  constructor(params: CategoricalParams, opts: DistributionOptions = {}) {
    const validate = opts.validateArgs ?? true;
    const hasL = params?.logits !== undefined;
    const hasP = params?.probs !== undefined;
    if (hasL === hasP) throw new ConfigError('params', 'give exactly one of { logits } or { probs }');
    const name = hasL ? 'logits' : 'probs';
    const raw = toTensor(name, (hasL ? params.logits : params.probs) as tf.Tensor, validate, this.owned);
    if (raw.shape.length < 1 || (raw.shape[raw.shape.length - 1] as number) < 1) {
      throw new ShapeError(name, '[...batch, K] with K >= 1', raw.shape);
    }
    if (!hasL && validate) {
      checkTensorNonNegative('probs', raw);
      const sums = tf.tidy(() => tf.sum(raw, -1).dataSync());
      for (let i = 0; i < sums.length; i++) {
        if (!((sums[i] as number) > 0))
          throw new ConfigError('probs', `row ${i} sums to ${sums[i]}, must be > 0`);
      }
    }
    this.logits = tf.tidy(() => {
      const l = hasL ? raw : tf.log(raw);
      return tf.sub(l, tf.logSumExp(l, -1, true));
    });
    this.owned.push(this.logits);
    this.numCategories = raw.shape[raw.shape.length - 1] as number;
    this.batchShape = raw.shape.slice(0, -1);
  }

  /** Probabilities `[...batchShape, K]`. */
  probs(): tf.Tensor {
    return tf.exp(this.logits);
  }

  /** log p(value) for integer values `[...sample, ...batchShape]`; −∞ outside {0, …, K−1}. */
  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const k = this.numCategories;
      const idx = tf.cast(tf.round(value), 'int32');
      const oh = tf.cast(tf.oneHot(tf.clipByValue(idx, 0, k - 1), k), 'bool');
      const shape = [...value.shape, k];
      const picked = tf.where(tf.broadcastTo(oh, shape), tf.broadcastTo(this.logits, shape), tf.zeros(shape));
      const lp = tf.sum(picked, -1);
      const valid = tf.logicalAnd(tf.greaterEqual(idx, 0), tf.less(idx, k));
      return tf.where(valid, lp, tf.fill(lp.shape, Number.NEGATIVE_INFINITY));
    });
  }

  /** `n` draws by inverse CDF on the host; int32 `[n, ...batchShape]`. */
  sample(n: number, rng: SampleStream): tf.Tensor {
    checkSampleCount(n);
    const k = this.numCategories;
    const m = sizeOf(this.batchShape);
    const p = tf.tidy(() => tf.exp(this.logits).dataSync());
    const out = new Int32Array(n * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const u = rng.uniform();
        let acc = 0;
        let c = k - 1;
        for (let a = 0; a < k; a++) {
          acc += p[j * k + a] as number;
          if (u < acc) {
            c = a;
            break;
          }
        }
        // skip trailing zero-probability categories if rounding left u ≥ acc
        while (c > 0 && (p[j * k + c] as number) === 0) c--;
        out[i * m + j] = c;
      }
    }
    return tf.tensor(out, [n, ...this.batchShape], 'int32');
  }

  /** The most probable category (int32). */
  mode(): tf.Tensor {
    return tf.argMax(this.logits, -1);
  }

  /** −Σ p log p (0 log 0 = 0). */
  entropy(): tf.Tensor {
    return tf.tidy(() => {
      const p = tf.exp(this.logits);
      const terms = tf.where(detachedCompare('greater', p, 0), tf.mul(p, this.logits), tf.zerosLike(p));
      return tf.neg(tf.sum(terms, -1));
    });
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}
