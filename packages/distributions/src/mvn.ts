import { broadcastShapes, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, DistributionOptions, SampleStream } from './types.js';
import { checkSampleCount, LOG_2PI, stopGradient } from './util.js';

/** `t` at index `i` of `axis` (that axis removed), by slice: differentiable on every backend. */
function take(t: tf.Tensor, axis: number, i: number): tf.Tensor {
  const begin = t.shape.map((_, k) => (k === axis ? i : 0));
  const size = t.shape.map((_, k) => (k === axis ? 1 : -1));
  return tf.squeeze(tf.slice(t, begin, size), [axis]);
}

/**
 * Solve L z = b for lower-triangular L `[..., d, d]` and b `[..., d]` by forward substitution,
 * differentiable in both (d small: one row per step of tfjs ops).
 */
export function solveLowerTriangular(l: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = l.shape[l.rank - 1] as number;
    // Rows and entries by slice, not unstack (its gradient fails when some outputs are unused) nor
    // gather (its gradient needs UnsortedSegmentSum, which wasm lacks).
    const row = (i: number) => take(l, l.rank - 2, i); // [..., d]
    const bAt = (i: number) => take(b, b.rank - 1, i); // [...]
    const zs: tf.Tensor[] = [];
    for (let i = 0; i < d; i++) {
      const r = row(i);
      const lii = take(r, r.rank - 1, i);
      let acc = bAt(i);
      if (i > 0) {
        const lij = tf.slice(r, [...r.shape.slice(0, -1).map(() => 0), 0], [...r.shape.slice(0, -1), i]);
        acc = tf.sub(acc, tf.sum(tf.mul(lij, tf.stack(zs, -1)), -1));
      }
      zs.push(tf.div(acc, lii));
    }
    return tf.stack(zs, -1);
  });
}

/**
 * Solve Lᵀ y = b for lower-triangular L `[..., d, d]` (so Lᵀ is upper triangular) and b `[..., d]`
 * by back substitution, differentiable in both.
 */
export function solveLowerTriangularTransposed(l: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = l.shape[l.rank - 1] as number;
    // Column i of L is row i of Lᵀ.
    const column = (i: number) => take(l, l.rank - 1, i); // L[..., :, i], [..., d]
    const bAt = (i: number) => take(b, b.rank - 1, i);
    const ys: tf.Tensor[] = new Array(d);
    for (let i = d - 1; i >= 0; i--) {
      const col = column(i);
      const lii = take(col, col.rank - 1, i);
      let acc = bAt(i);
      if (i < d - 1) {
        const lower = tf.slice(
          col,
          [...col.shape.slice(0, -1).map(() => 0), i + 1],
          [...col.shape.slice(0, -1), d - i - 1],
        );
        acc = tf.sub(acc, tf.sum(tf.mul(lower, tf.stack(ys.slice(i + 1), -1)), -1));
      }
      ys[i] = tf.div(acc, lii);
    }
    return tf.stack(ys, -1);
  });
}

/** Cholesky factor of a symmetric positive-definite matrix in float64 (row-major, n × n). */
export function choleskyNumber(a: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) throw new NumericalError('covariance', `is not positive definite (pivot ${i} is ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  return l;
}

/** Inverse of a symmetric positive-definite matrix in float64 through its Cholesky factor. */
function spdInverseNumber(a: ArrayLike<number>, n: number): Float64Array {
  const l = choleskyNumber(a, n);
  // L⁻¹ by forward substitution on the identity, then A⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (li[k * n + c] as number);
      li[i * n + c] = s / (l[i * n + i] as number);
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (li[k * n + i] as number) * (li[k * n + j] as number);
      out[i * n + j] = s;
    }
  }
  return out;
}

/**
 * Multivariate normal with full covariance, parameterized by its precision Λ = L Lᵀ through a
 * lower-triangular Cholesky factor L with a positive diagonal (`precisionTril`, `[..., d, d]`),
 * and either its mean μ or its first natural parameter η1 = Λμ (`[..., d]`). Event shape `[d]`.
 *
 * As an exponential family: T(θ) = (θ, θθᵀ), η = (Λμ, −½Λ), A(η) = ½ μᵀΛμ − Σ log Lᵢᵢ,
 * log h = −(d/2) log 2π. `fromNatural(η1, L)` is differentiable in both arguments (the
 * triangular solves are tfjs ops), which is what an amortized family needs.
 *
 * log p(θ) = −(d/2) log 2π + Σ log Lᵢᵢ − ½ ‖Lᵀθ − L⁻¹η1‖²; samples are μ + L⁻ᵀ ε, ε ~ N(0, I).
 */
export class MultivariateNormal implements Distribution {
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  /** Lower-triangular Cholesky factor of the precision, `[...batchShape, d, d]`. */
  readonly precisionTril: tf.Tensor;
  /** η1 = Λμ, `[...batchShape, d]`. */
  readonly eta1: tf.Tensor;
  /** L⁻¹ η1 = Lᵀ μ, `[...batchShape, d]`. */
  private readonly whitenedLoc: tf.Tensor;
  private locCache: tf.Tensor | undefined;
  private readonly owned: tf.Tensor[] = [];

  private constructor(eta1: tf.Tensor, precisionTril: tf.Tensor, opts: DistributionOptions) {
    if (precisionTril.rank < 2) throw new ShapeError('precisionTril', '[..., d, d]', precisionTril.shape);
    const d = precisionTril.shape[precisionTril.rank - 1] as number;
    if (precisionTril.shape[precisionTril.rank - 2] !== d) {
      throw new ShapeError('precisionTril', '[..., d, d]', precisionTril.shape);
    }
    if (eta1.rank < 1 || eta1.shape[eta1.rank - 1] !== d) {
      throw new ShapeError('eta1', `[..., ${d}]`, eta1.shape);
    }
    const batch = broadcastShapes(precisionTril.shape.slice(0, -2), eta1.shape.slice(0, -1), [
      'precisionTril',
      'eta1',
    ]);
    this.batchShape = batch;
    this.eventShape = [d];
    this.precisionTril =
      precisionTril.shape.length - 2 === batch.length
        ? precisionTril
        : tf.broadcastTo(precisionTril, [...batch, d, d]);
    if (this.precisionTril !== precisionTril) this.owned.push(this.precisionTril);
    this.eta1 = eta1.shape.length - 1 === batch.length ? eta1 : tf.broadcastTo(eta1, [...batch, d]);
    if (this.eta1 !== eta1) this.owned.push(this.eta1);
    if (opts.validateArgs ?? true) {
      const diag = tf.tidy(() => this.diagonal().dataSync());
      for (let i = 0; i < diag.length; i++) {
        const v = diag[i] as number;
        if (!(Number.isFinite(v) && v > 0)) {
          throw new NumericalError(
            'precisionTril',
            `needs a finite positive diagonal, found ${v} at flat diagonal index ${i}`,
          );
        }
      }
    }
    this.whitenedLoc = solveLowerTriangular(this.precisionTril, this.eta1);
    this.owned.push(this.whitenedLoc);
  }

  /** From natural parameters: η1 = Λμ `[..., d]` and the Cholesky factor L of Λ `[..., d, d]`. */
  static fromNatural(
    eta1: tf.Tensor,
    precisionTril: tf.Tensor,
    opts: DistributionOptions = {},
  ): MultivariateNormal {
    return new MultivariateNormal(eta1, precisionTril, opts);
  }

  /** From the mean μ `[..., d]` and the Cholesky factor L of the precision `[..., d, d]`. */
  static fromLocPrecisionTril(
    loc: tf.Tensor,
    precisionTril: tf.Tensor,
    opts: DistributionOptions = {},
  ): MultivariateNormal {
    const eta1 = tf.tidy(() =>
      tf.sum(
        tf.mul(precisionTril, tf.expandDims(tf.sum(tf.mul(precisionTril, tf.expandDims(loc, -1)), -2), -2)),
        -1,
      ),
    );
    const mvn = new MultivariateNormal(eta1, precisionTril, opts);
    mvn.owned.push(eta1);
    return mvn;
  }

  /**
   * From a mean `[d]` and a covariance matrix (row-major numbers, d × d), factorized on the host
   * in float64 (not differentiable; for references, priors and tests).
   */
  static fromLocCovariance(loc: ArrayLike<number>, covariance: ArrayLike<number>): MultivariateNormal {
    const d = loc.length;
    if (covariance.length !== d * d) {
      throw new ShapeError('covariance', `${d} × ${d} = ${d * d} numbers`, [covariance.length]);
    }
    const prec = spdInverseNumber(covariance, d);
    const l = choleskyNumber(prec, d);
    const eta = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (prec[i * d + j] as number) * (loc[j] as number);
      eta[i] = s;
    }
    const eta1 = tf.tensor1d(Float32Array.from(eta));
    const lt = tf.tensor2d(Float32Array.from(l), [d, d]);
    const mvn = new MultivariateNormal(eta1, lt, {});
    mvn.owned.push(eta1, lt);
    return mvn;
  }

  private get d(): number {
    return this.eventShape[0] as number;
  }

  /** diag(L), `[...batchShape, d]`. */
  private diagonal(): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.mul(this.precisionTril, tf.eye(this.d)), -1)); // not bandPart: its gradient breaks
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (value.rank < 1 || value.shape[value.rank - 1] !== this.d) {
        throw new ShapeError('value', `[..., ${[...this.batchShape, this.d].join(', ')}]`, value.shape);
      }
      const th = value.dtype === 'float32' ? value : tf.cast(value, 'float32');
      // (Lᵀθ)_i = Σ_j L_ji θ_j
      const y = tf.sum(tf.mul(this.precisionTril, tf.expandDims(th, -1)), -2);
      const r = tf.sub(y, this.whitenedLoc);
      const logDet = tf.sum(tf.log(this.diagonal()), -1);
      return tf.sub(tf.sub(logDet, tf.mul(0.5, tf.sum(tf.square(r), -1))), 0.5 * this.d * LOG_2PI);
    });
  }

  /** Reparameterized draws μ + L⁻ᵀ ε, `[n, ...batchShape, d]`, differentiable in η1 and L. */
  rsample(n: number, rng: SampleStream): tf.Tensor {
    checkSampleCount(n);
    return tf.tidy(() => {
      const eps = rng.normalTensor([n, ...this.batchShape, this.d]);
      const lb = tf.broadcastTo(this.precisionTril, [n, ...this.batchShape, this.d, this.d]);
      // Lᵀ (θ − 0) = L⁻¹η1 + ε  ⇒  θ = L⁻ᵀ (L⁻¹η1 + ε)
      return solveLowerTriangularTransposed(lb, tf.add(eps, this.whitenedLoc));
    });
  }

  sample(n: number, rng: SampleStream): tf.Tensor {
    return tf.tidy(() => stopGradient(this.rsample(n, rng)));
  }

  /** μ = L⁻ᵀ L⁻¹ η1, `[...batchShape, d]`. */
  mean(): tf.Tensor {
    if (this.locCache === undefined) {
      this.locCache = solveLowerTriangularTransposed(this.precisionTril, this.whitenedLoc);
      this.owned.push(this.locCache);
    }
    return tf.clone(this.locCache);
  }

  mode(): tf.Tensor {
    return this.mean();
  }

  /** Σ = Λ⁻¹ = L⁻ᵀ L⁻¹, `[...batchShape, d, d]`. */
  covariance(): tf.Tensor {
    return tf.tidy(() => {
      const d = this.d;
      const eye = tf.broadcastTo(tf.eye(d), [...this.batchShape, d, d]);
      // Columns of L⁻¹: solve L z = e_c for each c (as rows of a batch), then Σ = (L⁻¹)ᵀ L⁻¹.
      const lExp = tf.broadcastTo(tf.expandDims(this.precisionTril, -3), [...this.batchShape, d, d, d]);
      const inv = solveLowerTriangular(lExp, eye); // [..., c, i] = (L⁻¹)_{i c}
      // Σ_{ij} = Σ_k (L⁻¹)_{ki} (L⁻¹)_{kj} = Σ_k inv[..., i, k] inv[..., j, k]
      return tf.matMul(inv, inv, false, true);
    });
  }

  /** Marginal variances diag(Σ), `[...batchShape, d]`. */
  variance(): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.mul(this.covariance(), tf.eye(this.d)), -1));
  }

  /** H = (d/2)(1 + log 2π) − Σ log Lᵢᵢ. */
  entropy(): tf.Tensor {
    return tf.tidy(() => tf.sub(0.5 * this.d * (1 + LOG_2PI), tf.sum(tf.log(this.diagonal()), -1)));
  }

  /** A(η) = ½ ‖L⁻¹η1‖² − Σ log Lᵢᵢ, `[...batchShape]` (with log h = −(d/2) log 2π). */
  logPartition(): tf.Tensor {
    return tf.tidy(() =>
      tf.sub(tf.mul(0.5, tf.sum(tf.square(this.whitenedLoc), -1)), tf.sum(tf.log(this.diagonal()), -1)),
    );
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
    this.locCache = undefined;
  }
}
