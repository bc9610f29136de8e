import { broadcastShapes, checkTensorPositive, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, DistributionOptions, ExponentialFamily, SampleStream } from './types.js';
import { checkSampleCount, LOG_2PI, type Param, stopGradient, toTensor } from './util.js';

export interface NormalFromNaturalOptions extends DistributionOptions {
  /**
   * Keep η2 inside `[lo, hi]` (both < 0), as the paper does with `[−1000, −0.1]`, by a smooth clamp
   * that keeps a gradient everywhere (see `clampWidth`). Without it, η2 ≥ 0 is an error (when
   * `validateArgs`).
   */
  clampEta2?: readonly [number, number];
  /**
   * Width w of the clamp's rounded corners (default 1, in units of η2). With u = softplus:
   * y = hi − w·u((hi − η2)/w), then η2' = lo + (hi − lo)·u((y − lo)/w)/u((hi − lo)/w), so lo < η2' < hi
   * exactly, η2' = η2 up to w·e^{−d/w} at a distance d from the bounds, and dη2'/dη2 > 0 everywhere
   * (≈ 0.48 at η2 = 0 for the default: a zero-initialized last layer trains). `0` gives the hard clamp
   * of the reference code, whose gradient is zero outside `[lo, hi]`.
   */
  clampWidth?: number;
}

/**
 * The smooth clamp of `NormalFromNaturalOptions.clampWidth` (a hard clip when `width` is 0), as
 * tfjs ops: strictly inside (lo, hi), increasing, identity up to w·e^{−d/w} away from the bounds.
 */
export function softClampEta2(eta2: tf.Tensor, lo: number, hi: number, width = 1): tf.Tensor {
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi && hi < 0)) {
    throw new NumericalError('clampEta2', `must be [lo, hi] with lo < hi < 0, got [${lo}, ${hi}]`);
  }
  if (!(Number.isFinite(width) && width >= 0)) {
    throw new NumericalError('clampWidth', `must be a finite number >= 0, got ${width}`);
  }
  if (width === 0) return tf.clipByValue(eta2, lo, hi);
  // Both corners written as (hard clip) ± w·softplus(−|distance|/w), which equals the formula above
  // but never forms lo + (y − lo): the result keeps float32 precision at |η2| ≪ |lo|.
  const c = (hi - lo) / (width * softplusNumber((hi - lo) / width)); // 1 − c ≤ e^{−(hi − lo)/w}
  return tf.tidy(() => {
    // −|d| as min(−d, d): at d = 0 tfjs gives the gradient to −d, matching the branch the hard
    // min/max below pick there (so the derivative is the smooth one, ½ at a bound).
    const corner = (d: tf.Tensor) => tf.mul(width, tf.softplus(tf.div(tf.minimum(tf.neg(d), d), width)));
    const y = tf.sub(tf.minimum(eta2, hi), corner(tf.sub(hi, eta2)));
    const m = tf.maximum(y, lo);
    return tf.add(tf.sub(m, tf.mul(1 - c, tf.sub(m, lo))), tf.mul(c, corner(tf.sub(y, lo))));
  });
}

/** log(1 + eˣ) in float64 without overflow. */
function softplusNumber(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Normal(loc, scale), batched by broadcasting `loc` and `scale`; event shape `[]`. As an
 * exponential family: T(x) = (x, x²), η = (μ/σ², −1/(2σ²)), A(η) = −η1²/(4η2) − ½ log(−2η2),
 * log h = −½ log 2π.
 */
export class Normal implements Distribution, ExponentialFamily {
  readonly loc: tf.Tensor;
  readonly scale: tf.Tensor;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  private readonly owned: tf.Tensor[] = [];

  constructor(loc: Param, scale: Param, opts: DistributionOptions = {}) {
    const validate = opts.validateArgs ?? true;
    this.loc = toTensor('loc', loc, validate, this.owned);
    this.scale = toTensor('scale', scale, validate, this.owned);
    if (validate) checkTensorPositive('scale', this.scale);
    this.batchShape = broadcastShapes(this.scale.shape, this.loc.shape, ['scale', 'loc']);
  }

  /**
   * From natural parameters η1 = μ/σ², η2 = −1/(2σ²) (differentiable in both). η2 must be < 0:
   * pass `clampEta2` to keep it in `[lo, hi]` by a smooth clamp with a gradient everywhere
   * (`softClampEta2`), otherwise η2 ≥ 0 throws a `NumericalError` naming `eta2`.
   */
  static fromNatural(eta1: Param, eta2: Param, opts: NormalFromNaturalOptions = {}): Normal {
    const validate = opts.validateArgs ?? true;
    const owned: tf.Tensor[] = [];
    const e1 = toTensor('eta1', eta1, validate, owned);
    let e2 = toTensor('eta2', eta2, validate, owned);
    broadcastShapes(e2.shape, e1.shape, ['eta2', 'eta1']);
    if (opts.clampEta2) {
      const [lo, hi] = opts.clampEta2;
      e2 = softClampEta2(e2, lo, hi, opts.clampWidth ?? 1);
      owned.push(e2);
    } else if (validate) {
      const d = e2.dataSync();
      for (let i = 0; i < d.length; i++) {
        if (!((d[i] as number) < 0)) {
          throw new NumericalError(
            'eta2',
            `must be < 0 (η2 = −1/(2σ²)), found ${d[i]} at flat index ${i}; pass clampEta2 to clamp`,
          );
        }
      }
    }
    const [loc, scale] = tf.tidy(() => {
      const var_ = tf.div(-0.5, e2);
      return [tf.mul(e1, var_), tf.sqrt(var_)];
    });
    const n = new Normal(loc as tf.Tensor, scale as tf.Tensor, { validateArgs: false });
    n.owned.push(loc as tf.Tensor, scale as tf.Tensor, ...owned);
    return n;
  }

  /** From mean parameters m = (E x, E x²) stacked on the last axis (requires m2 > m1²). */
  static fromMeanParameters(m: tf.Tensor, opts: DistributionOptions = {}): Normal {
    if (m.shape.length < 1 || m.shape[m.shape.length - 1] !== 2) {
      throw new ShapeError('m', '[..., 2]', m.shape);
    }
    const [loc, scale] = tf.tidy(() => {
      const [m1, m2] = tf.unstack(m, -1) as [tf.Tensor, tf.Tensor];
      return [m1, tf.sqrt(tf.sub(m2, tf.square(m1)))];
    });
    if (opts.validateArgs ?? true) {
      try {
        checkTensorPositive('scale', scale as tf.Tensor);
      } catch {
        tf.dispose([loc, scale]);
        throw new NumericalError('m', 'needs E[x²] − E[x]² > 0 everywhere');
      }
    }
    const n = new Normal(loc as tf.Tensor, scale as tf.Tensor, { validateArgs: false });
    n.owned.push(loc as tf.Tensor, scale as tf.Tensor);
    return n;
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = tf.div(tf.sub(value, this.loc), this.scale);
      return tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(tf.log(this.scale), 0.5 * LOG_2PI));
    });
  }

  /** Reparameterized draws loc + scale·ε, ε ~ N(0, 1) from `rng`; `[n, ...batchShape]`. */
  rsample(n: number, rng: SampleStream): tf.Tensor {
    checkSampleCount(n);
    return tf.tidy(() => tf.add(this.loc, tf.mul(this.scale, rng.normalTensor([n, ...this.batchShape]))));
  }

  sample(n: number, rng: SampleStream): tf.Tensor {
    return tf.tidy(() => stopGradient(this.rsample(n, rng)));
  }

  mean(): tf.Tensor {
    return tf.broadcastTo(this.loc, [...this.batchShape]);
  }

  mode(): tf.Tensor {
    return this.mean();
  }

  variance(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.square(this.scale), [...this.batchShape]));
  }

  entropy(): tf.Tensor {
    return tf.tidy(() =>
      tf.broadcastTo(tf.add(tf.log(this.scale), 0.5 * (1 + LOG_2PI)), [...this.batchShape]),
    );
  }

  sufficientStatistic(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.stack([x, tf.square(x)], -1));
  }

  naturalParameters(): tf.Tensor {
    return tf.tidy(() => {
      const prec = tf.reciprocal(tf.square(this.scale));
      const b = [...this.batchShape];
      return tf.stack([tf.broadcastTo(tf.mul(this.loc, prec), b), tf.broadcastTo(tf.mul(-0.5, prec), b)], -1);
    });
  }

  logPartition(): tf.Tensor {
    return tf.tidy(() =>
      tf.broadcastTo(
        tf.add(tf.div(tf.square(this.loc), tf.mul(2, tf.square(this.scale))), tf.log(this.scale)),
        [...this.batchShape],
      ),
    );
  }

  meanParameters(): tf.Tensor {
    return tf.tidy(() => {
      const b = [...this.batchShape];
      return tf.stack(
        [tf.broadcastTo(this.loc, b), tf.broadcastTo(tf.add(tf.square(this.loc), tf.square(this.scale)), b)],
        -1,
      );
    });
  }

  logBaseMeasure(x: tf.Tensor): tf.Tensor {
    return tf.fill(x.shape, -0.5 * LOG_2PI);
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}

function lastTwo(name: string, t: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (t.shape.length < 1 || t.shape[t.shape.length - 1] !== 2)
    throw new ShapeError(name, '[..., 2]', t.shape);
  return tf.unstack(t, -1) as [tf.Tensor, tf.Tensor];
}

/** Normal natural parameters η `[..., 2]` → mean parameters (E x, E x²) `[..., 2]`. */
export function normalNaturalToMean(eta: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [e1, e2] = lastTwo('eta', eta);
    const v = tf.div(-0.5, e2);
    const mu = tf.mul(e1, v);
    return tf.stack([mu, tf.add(tf.square(mu), v)], -1);
  });
}

/** Normal mean parameters (E x, E x²) `[..., 2]` → natural parameters η `[..., 2]`. */
export function normalMeanToNatural(m: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [m1, m2] = lastTwo('m', m);
    const prec = tf.reciprocal(tf.sub(m2, tf.square(m1)));
    return tf.stack([tf.mul(m1, prec), tf.mul(-0.5, prec)], -1);
  });
}

/** Normal log-partition A(η) = −η1²/(4η2) − ½ log(−2η2) for η `[..., 2]`. */
export function normalLogPartition(eta: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [e1, e2] = lastTwo('eta', eta);
    return tf.sub(tf.div(tf.square(e1), tf.mul(-4, e2)), tf.mul(0.5, tf.log(tf.mul(-2, e2))));
  });
}
