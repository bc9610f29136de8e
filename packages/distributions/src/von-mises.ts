import {
  i1OverI0,
  i1OverI0DerivNumber,
  i1OverI0Number,
  i1OverI0OverKappa,
  logI0,
  logI0e,
  logI0eNumber,
  logI0OfSquare,
  oneMinusI1OverI0,
  sinStable,
  specialFunctionsOnHost,
  vonMisesNllFromAngle,
  vonMisesNllFromAnglePlain,
} from '@gcvi/kernels';
import { broadcastShapes, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Distribution, DistributionOptions, ExponentialFamily, SampleStream } from './types.js';
import { checkSampleCount, checkTensorNonNegative, LOG_2PI, type Param, sizeOf, toTensor } from './util.js';

/**
 * The von Mises distribution on the circle: p(θ) = exp(κ cos(θ − μ)) / (2π I0(κ)). Event shape
 * `[]`; the density is 2π-periodic, samples are wrapped into [−π, π).
 *
 * As an exponential family: T(θ) = (cos θ, sin θ), η = κ(cos μ, sin μ) ∈ R², A(η) = log(2π I0(‖η‖)),
 * h = 1. A distribution built with `fromNatural` evaluates `logProb` in η directly, with finite
 * gradients everywhere including η = 0.
 */
export class VonMises implements Distribution, ExponentialFamily {
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  /** Natural parameters as given to `fromNatural` ([..., 2]); undefined otherwise. */
  private eta: tf.Tensor | undefined;
  private readonly owned: tf.Tensor[] = [];
  private locT: tf.Tensor | undefined;
  private concT: tf.Tensor | undefined;

  constructor(loc: Param, concentration: Param, opts: DistributionOptions = {}) {
    const validate = opts.validateArgs ?? true;
    this.locT = toTensor('loc', loc, validate, this.owned);
    this.concT = toTensor('concentration', concentration, validate, this.owned);
    if (validate) checkTensorNonNegative('concentration', this.concT);
    this.batchShape = broadcastShapes(this.concT.shape, this.locT.shape, ['concentration', 'loc']);
  }

  /** μ. From natural parameters it is computed on first use (the log-density does not need it). */
  get loc(): tf.Tensor {
    if (!this.locT || this.locT.isDisposed) this.fromEta();
    return this.locT as tf.Tensor;
  }

  /** κ. From natural parameters it is computed on first use (the log-density does not need it). */
  get concentration(): tf.Tensor {
    if (!this.concT || this.concT.isDisposed) this.fromEta();
    return this.concT as tf.Tensor;
  }

  /** μ = atan2(η2, η1), κ = ‖η‖, in the caller's tidy scope (recomputed if that scope freed them). */
  private fromEta(): void {
    const e = this.eta as tf.Tensor;
    const [loc, conc] = tf.tidy(() => {
      const [e1, e2] = tf.unstack(e, -1) as [tf.Tensor, tf.Tensor];
      return [tf.atan2(e2, e1), tf.sqrt(tf.add(tf.square(e1), tf.square(e2)))];
    });
    this.locT = loc as tf.Tensor;
    this.concT = conc as tf.Tensor;
    this.owned.push(this.locT, this.concT);
  }

  /** From natural parameters η `[..., 2]`: κ = ‖η‖, μ = atan2(η2, η1). */
  static fromNatural(eta: tf.Tensor, opts: DistributionOptions = {}): VonMises {
    if (!(eta instanceof tf.Tensor)) throw new NumericalError('eta', 'must be a tf.Tensor of shape [..., 2]');
    if (eta.shape.length < 1 || eta.shape[eta.shape.length - 1] !== 2) {
      throw new ShapeError('eta', '[..., 2]', eta.shape);
    }
    const owned: tf.Tensor[] = [];
    const e = toTensor('eta', eta, opts.validateArgs ?? true, owned);
    // Built without loc and concentration: they are derived from η when first read.
    const d = Object.create(VonMises.prototype) as VonMises;
    const init = d as unknown as {
      batchShape: readonly number[];
      eventShape: readonly number[];
      eta: tf.Tensor;
      owned: tf.Tensor[];
      locT: undefined;
      concT: undefined;
    };
    init.batchShape = e.shape.slice(0, -1);
    init.eventShape = [];
    init.eta = e;
    init.owned = owned;
    init.locT = undefined;
    init.concT = undefined;
    return d;
  }

  /**
   * From mean parameters m = E(cos θ, sin θ) `[..., 2]` with ‖m‖ < 1: κ solves I1(κ)/I0(κ) = ‖m‖
   * (Newton's method in float64 on the host from Banerjee's starting point). Not differentiable.
   */
  static fromMeanParameters(m: tf.Tensor, opts: DistributionOptions = {}): VonMises {
    const eta = vonMisesMeanToNatural(m);
    const d = VonMises.fromNatural(eta, opts);
    d.owned.push(eta);
    return d;
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const th = value.dtype === 'float32' ? value : tf.cast(value, 'float32');
      const host = specialFunctionsOnHost();
      if (this.eta) {
        // The one fused von Mises NLL of @gcvi/kernels, in its angle form: on the host (float64,
        // one kernel) or as tfjs ops (twice differentiable, wasm's sin worked around).
        const nllOf = host ? vonMisesNllFromAngle : vonMisesNllFromAnglePlain;
        const es = this.eta.shape;
        if (es.length === th.shape.length + 1 && th.shape.every((d, i) => d === es[i])) {
          // η already has the value's batch shape: no broadcast (the same numbers, fewer ops).
          const nll = nllOf(tf.reshape(this.eta, [-1, 2]), tf.reshape(th, [-1]), 'none');
          return tf.reshape(tf.neg(nll), th.shape);
        }
        const [e1, e2] = tf.unstack(this.eta, -1) as [tf.Tensor, tf.Tensor];
        const [b1, b2, bt] = broadcastAll([e1, e2, th]) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const shape = bt.shape;
        const eta = tf.reshape(tf.stack([b1, b2], -1), [-1, 2]);
        const nll = nllOf(eta, tf.reshape(bt, [-1]), 'none');
        return tf.reshape(tf.neg(nll), shape);
      }
      if (host) {
        const [bm, bk, bt] = broadcastAll([this.loc, this.concentration, th]) as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        return hostLogProbLocConc(bm, bk, bt);
      }
      // κ cos(θ − μ) − log I0(κ) = −2κ sin²((θ − μ)/2) − (log I0(κ) − κ)
      const half = sinStable(tf.mul(0.5, tf.sub(th, this.loc)));
      return tf.sub(
        tf.neg(tf.add(tf.mul(tf.mul(2, this.concentration), tf.square(half)), logI0e(this.concentration))),
        LOG_2PI,
      );
    });
  }

  /**
   * Best–Fisher (1979) rejection sampling on the host, seeded by `rng`; values in [−π, π).
   * Shape `[n, ...batchShape]`. Not differentiable.
   */
  sample(n: number, rng: SampleStream): tf.Tensor {
    checkSampleCount(n);
    const b = [...this.batchShape];
    const m = sizeOf(b);
    const [mu, kappa] = tf.tidy(() => [
      tf.broadcastTo(this.loc, b).dataSync(),
      tf.broadcastTo(this.concentration, b).dataSync(),
    ]);
    const out = new Float32Array(n * m);
    const params = Array.from({ length: m }, (_, j) => bestFisherParams(kappa[j] as number));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        out[i * m + j] = wrap(
          (mu[j] as number) + bestFisherDraw(kappa[j] as number, params[j] as number, rng),
        );
      }
    }
    return tf.tensor(out, [n, ...b], 'float32');
  }

  /** The circular mean μ (`loc`), broadcast to the batch shape. */
  mean(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(this.loc, [...this.batchShape]));
  }

  mode(): tf.Tensor {
    return this.mean();
  }

  /** Mean resultant length E cos(θ − μ) = I1(κ)/I0(κ). */
  meanResultantLength(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(i1OverI0(this.concentration), [...this.batchShape]));
  }

  /**
   * H = log(2π I0(κ)) − κ I1(κ)/I0(κ), evaluated as log 2π + (log I0(κ) − κ) + κ (1 − I1(κ)/I0(κ))
   * so that no two numbers of size κ cancel (H → ½ log(2πe/κ) as κ → ∞).
   */
  entropy(): tf.Tensor {
    return tf.tidy(() => {
      const k = this.concentration;
      return tf.broadcastTo(tf.add(tf.add(logI0e(k), tf.mul(k, oneMinusI1OverI0(k))), LOG_2PI), [
        ...this.batchShape,
      ]);
    });
  }

  sufficientStatistic(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.stack([tf.cos(x), tf.sin(x)], -1));
  }

  naturalParameters(): tf.Tensor {
    if (this.eta) return tf.clone(this.eta);
    return tf.tidy(() => {
      const b = [...this.batchShape];
      const k = this.concentration;
      return tf.stack(
        [tf.broadcastTo(tf.mul(k, tf.cos(this.loc)), b), tf.broadcastTo(tf.mul(k, tf.sin(this.loc)), b)],
        -1,
      );
    });
  }

  logPartition(): tf.Tensor {
    return tf.tidy(() => tf.broadcastTo(tf.add(logI0(this.concentration), LOG_2PI), [...this.batchShape]));
  }

  meanParameters(): tf.Tensor {
    return tf.tidy(() => {
      const eta = this.naturalParameters();
      return vonMisesNaturalToMean(eta);
    });
  }

  logBaseMeasure(x: tf.Tensor): tf.Tensor {
    return tf.zerosLike(x);
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}

/** Broadcast tensors to one shape (differentiable; tfjs reduces the gradients back). */
function broadcastAll(xs: tf.Tensor[]): tf.Tensor[] {
  let shape: number[] = [];
  for (const x of xs) shape = broadcastShapes(x.shape, shape, ['value', 'parameters']);
  return xs.map((x) =>
    x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]) ? x : tf.broadcastTo(x, shape),
  );
}

/**
 * Fused host kernel for the (loc, concentration) log-density, used when the special functions run
 * on the host: one upload forward, one read and three uploads backward. First derivatives only.
 * (Natural parameters go through the fused NLL kernel of @gcvi/kernels.)
 */
const hostLogProbLocConc = tf.customGrad((mu, kappa, th, save) => {
  const ins = [mu, kappa, th] as tf.Tensor[];
  (save as tf.GradSaveFunc)(ins);
  const [m, k, t] = ins.map((x) => x.dataSync()) as [Float32Array, Float32Array, Float32Array];
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const h = Math.sin(0.5 * ((t[i] as number) - (m[i] as number)));
    out[i] = -2 * (k[i] as number) * h * h - logI0eNumber(k[i] as number) - LOG_2PI;
  }
  return {
    value: tf.tensor(out, (th as tf.Tensor).shape, 'float32'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const g = dy.dataSync();
      const [mm, kk, tt] = saved.map((x) => x.dataSync()) as [Float32Array, Float32Array, Float32Array];
      const n = tt.length;
      const om = new Float32Array(n);
      const ok = new Float32Array(n);
      const ot = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const d = (tt[i] as number) - (mm[i] as number);
        const kv = kk[i] as number;
        const gi = g[i] as number;
        om[i] = gi * kv * Math.sin(d);
        ok[i] = gi * (Math.cos(d) - i1OverI0Number(kv));
        ot[i] = -om[i];
      }
      const shape = saved[2]!.shape;
      return [
        tf.tensor(om, shape, 'float32'),
        tf.tensor(ok, shape, 'float32'),
        tf.tensor(ot, shape, 'float32'),
      ];
    },
  };
}) as unknown as (mu: tf.Tensor, kappa: tf.Tensor, th: tf.Tensor) => tf.Tensor;

function wrap(theta: number): number {
  const t = theta + Math.PI;
  return t - 2 * Math.PI * Math.floor(t / (2 * Math.PI)) - Math.PI;
}

/** The Best–Fisher envelope parameter r = (1 + ρ²)/(2ρ), computed without cancellation at small κ. */
function bestFisherParams(kappa: number): number {
  if (!(kappa > 0)) return Number.NaN; // κ = 0: uniform, no envelope needed
  const s = Math.sqrt(1 + 4 * kappa * kappa);
  const tau = 1 + s;
  // ρ = (τ − √(2τ))/(2κ) = 2κτ / ((s + 1)(τ + √(2τ)))
  const rho = (2 * kappa * tau) / ((s + 1) * (tau + Math.sqrt(2 * tau)));
  return (1 + rho * rho) / (2 * rho);
}

/** One draw of θ − μ by Best & Fisher's algorithm (uniform on [−π, π) when κ = 0). */
function bestFisherDraw(kappa: number, r: number, rng: SampleStream): number {
  if (!(kappa > 0)) return Math.PI * (2 * rng.uniform() - 1);
  for (;;) {
    const u1 = rng.uniform();
    const u2 = rng.uniform();
    const u3 = rng.uniform();
    const z = Math.cos(Math.PI * u1);
    const f = (1 + r * z) / (r + z);
    const c = kappa * (r - f);
    if (c * (2 - c) - u2 > 0 || Math.log(c / u2) + 1 - c >= 0) {
      const a = Math.acos(Math.max(-1, Math.min(1, f)));
      return u3 > 0.5 ? a : -a;
    }
  }
}

function checkPairs(name: string, t: tf.Tensor): void {
  if (!(t instanceof tf.Tensor)) throw new NumericalError(name, 'must be a tf.Tensor of shape [..., 2]');
  if (t.shape.length < 1 || t.shape[t.shape.length - 1] !== 2)
    throw new ShapeError(name, '[..., 2]', t.shape);
}

/** von Mises natural parameters η `[..., 2]` → mean parameters E(cos θ, sin θ) = (I1/I0)(‖η‖) η/‖η‖. */
export function vonMisesNaturalToMean(eta: tf.Tensor): tf.Tensor {
  checkPairs('eta', eta);
  return tf.tidy(() => {
    const k = tf.norm(eta, 'euclidean', -1, true);
    return tf.mul(i1OverI0OverKappa(k), eta);
  });
}

/** von Mises log-partition A(η) = log(2π I0(‖η‖)) for η `[..., 2]` (smooth at η = 0). */
export function vonMisesLogPartition(eta: tf.Tensor): tf.Tensor {
  checkPairs('eta', eta);
  return tf.tidy(() => tf.add(logI0OfSquare(tf.sum(tf.square(eta), -1)), LOG_2PI));
}

/** Solve I1(κ)/I0(κ) = ρ for κ ≥ 0 (0 ≤ ρ < 1), float64 Newton from Banerjee et al.'s approximation. */
export function vonMisesConcentrationFromMeanResultant(rho: number): number {
  if (!(rho >= 0 && rho < 1)) {
    throw new NumericalError('rho', `mean resultant length must be in [0, 1), got ${rho}`);
  }
  if (rho === 0) return 0;
  let k = (rho * (2 - rho * rho)) / (1 - rho * rho);
  for (let it = 0; it < 100; it++) {
    const f = i1OverI0Number(k) - rho;
    const step = f / i1OverI0DerivNumber(k);
    const next = Math.max(k - step, 0.5 * k);
    if (Math.abs(next - k) <= 1e-14 * next) {
      k = next;
      break;
    }
    k = next;
  }
  return k;
}

/** von Mises mean parameters E(cos θ, sin θ) `[..., 2]` (norm < 1) → natural parameters (host-side, not differentiable). */
export function vonMisesMeanToNatural(m: tf.Tensor): tf.Tensor {
  checkPairs('m', m);
  const d = m.dataSync();
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i += 2) {
    const m1 = d[i] as number;
    const m2 = d[i + 1] as number;
    const rho = Math.hypot(m1, m2);
    if (!(rho < 1)) throw new NumericalError('m', `needs ‖m‖ < 1 everywhere, got ${rho} at pair ${i / 2}`);
    const k = vonMisesConcentrationFromMeanResultant(rho);
    out[i] = rho > 0 ? (k * m1) / rho : 0;
    out[i + 1] = rho > 0 ? (k * m2) / rho : 0;
  }
  return tf.tensor(out, m.shape, 'float32');
}
