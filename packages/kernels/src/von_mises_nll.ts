import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import {
  type FusedBackendName,
  gradViaKernel,
  hasFusedKernel,
  jsKernelConfigs,
  type KernelInputs,
  runJsKernel,
} from './js_kernel.js';
import { detachedCompare } from './mask.js';
import { i1OverI0OverKappaNumber, logI0eNumber, logI0Number, sinStable, specialVariants } from './special.js';

/** Kernel name: von Mises negative log-likelihood in natural parameters. */
export const VonMisesNll = 'GcviVonMisesNll';
/** Kernel name of its backward pass: (dy, η, t) → (dη, dt). */
export const VonMisesNllGrad = 'GcviVonMisesNllGrad';

export type NllReduction = 'none' | 'mean' | 'sum';
/**
 * What the kernel's second input `t` is: `statistic`, the sufficient statistic (cos θ, sin θ)
 * `[batch, 2]` as given; `angle`, the angle θ `[batch]` (cos and sin taken in float64 inside).
 */
export type NllForm = 'statistic' | 'angle';

interface NllAttrs {
  reduction: NllReduction;
  form: NllForm;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * −log q(θ | η) = −η·(cos θ, sin θ) + log 2π + log I0(‖η‖) in float64, written without the
 * cancellation of two numbers of size κ = ‖η‖: for κ ≥ 1, κ − η·T = (η × T)²/(κ + η·T) when
 * η·T > 0, and log I0(κ) − κ is evaluated directly. Accurate for κ up to 1e30.
 */
export function vonMisesNllNumber(eta1: number, eta2: number, theta: number): number {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const a = eta1 * c + eta2 * s;
  const k = Math.hypot(eta1, eta2);
  if (k < 1) return -a + logI0Number(k) + LOG_2PI;
  const cross = eta1 * s - eta2 * c;
  const diff = a > 0 ? (cross * cross) / (k + a) : k - a;
  return diff + logI0eNumber(k) + LOG_2PI;
}

/**
 * Forward: nll_b = −η_b·t_b + log 2π + log I0(‖η_b‖), with η `[batch, 2]` natural parameters and
 * t either the statistic `[batch, 2]` (taken literally) or the angle `[batch]`
 * (`vonMisesNllNumber`); float64 inside (series / asymptotic expansion: no overflow).
 */
function forward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const { eta, t } = inputs;
  const { reduction, form } = attrs as unknown as NllAttrs;
  const batch = eta.shape[0];
  const outShape = reduction === 'none' ? [batch] : [];
  const [out] = runJsKernel(VonMisesNll, backendName, backend, [eta, t], [outShape], (ins, outs) => {
    const [e, tv] = ins;
    const y = outs[0];
    let total = 0;
    for (let b = 0; b < batch; b++) {
      const e0 = e[2 * b];
      const e1 = e[2 * b + 1];
      const nll =
        form === 'angle'
          ? vonMisesNllNumber(e0, e1, tv[b])
          : -(e0 * tv[2 * b] + e1 * tv[2 * b + 1]) + LOG_2PI + logI0Number(Math.hypot(e0, e1));
      if (reduction === 'none') y[b] = nll;
      total += nll;
    }
    if (reduction === 'sum') y[0] = total;
    else if (reduction === 'mean') y[0] = total / batch;
  });
  return out;
}

/**
 * Backward: dη_b = w_b (A(κ_b) η_b/κ_b − T_b) with T_b the statistic; statistic form dt_b = −w_b η_b,
 * angle form dθ_b = w_b (η1 sin θ − η2 cos θ); w_b the incoming gradient.
 */
function backward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo[] {
  const { dy, eta, t } = inputs;
  const { reduction, form } = attrs as unknown as NllAttrs;
  const batch = eta.shape[0];
  return runJsKernel(
    VonMisesNllGrad,
    backendName,
    backend,
    [dy, eta, t],
    [[batch, 2], form === 'angle' ? [batch] : [batch, 2]],
    (ins, outs) => {
      const [dyv, e, tv] = ins;
      const [de, dt] = outs;
      for (let b = 0; b < batch; b++) {
        const w = reduction === 'none' ? dyv[b] : reduction === 'mean' ? dyv[0] / batch : dyv[0];
        const e0 = e[2 * b];
        const e1 = e[2 * b + 1];
        const r = i1OverI0OverKappaNumber(Math.hypot(e0, e1));
        if (form === 'angle') {
          const c = Math.cos(tv[b]);
          const s = Math.sin(tv[b]);
          de[2 * b] = w * (r * e0 - c);
          de[2 * b + 1] = w * (r * e1 - s);
          dt[b] = w * (e0 * s - e1 * c);
        } else {
          de[2 * b] = w * (r * e0 - tv[2 * b]);
          de[2 * b + 1] = w * (r * e1 - tv[2 * b + 1]);
          dt[2 * b] = -w * e0;
          dt[2 * b + 1] = -w * e1;
        }
      }
    },
  );
}

/** The forward and backward kernels on wasm and cpu (registered from `register_all.ts`). */
export const vonMisesNllKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(VonMisesNll, forward),
  ...jsKernelConfigs(VonMisesNllGrad, backward),
];

/** Gradient of the forward kernel: the fused backward kernel (first order only). */
export const vonMisesNllGradConfig: tf.GradConfig = gradViaKernel(VonMisesNll, VonMisesNllGrad, ['eta', 't']);

function check(eta: tf.Tensor, t: tf.Tensor, reduction: string, form: NllForm): void {
  if (eta.rank !== 2 || eta.shape[1] !== 2) throw new ShapeError('eta', '[batch, 2]', eta.shape);
  const name = form === 'angle' ? 'theta' : 't';
  if (form === 'angle') {
    if (t.rank !== 1 || t.shape[0] !== eta.shape[0]) throw new ShapeError(name, `[${eta.shape[0]}]`, t.shape);
  } else if (t.rank !== 2 || t.shape[0] !== eta.shape[0] || t.shape[1] !== 2) {
    throw new ShapeError(name, `[${eta.shape[0]}, 2]`, t.shape);
  }
  if (eta.dtype !== 'float32') throw new ConfigError('eta', `must be float32, got ${eta.dtype}`);
  if (t.dtype !== 'float32') throw new ConfigError(name, `must be float32, got ${t.dtype}`);
  if (reduction !== 'none' && reduction !== 'mean' && reduction !== 'sum') {
    throw new ConfigError('reduction', `must be 'none', 'mean' or 'sum', got '${reduction}'`);
  }
}

function reduce(nll: tf.Tensor, reduction: NllReduction): tf.Tensor {
  return reduction === 'none' ? nll : reduction === 'mean' ? tf.mean(nll) : tf.sum(nll);
}

/** The statistic form with plain tfjs ops (reference for tests; fallback on other backends). */
export function vonMisesNllPlain(eta: tf.Tensor, t: tf.Tensor, reduction: NllReduction = 'mean'): tf.Tensor {
  check(eta, t, reduction, 'statistic');
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(eta), 1);
    const nll = tf.add(tf.sub(specialVariants.logI0OfSquare.tensor(sq), tf.sum(tf.mul(eta, t), 1)), LOG_2PI);
    return reduce(nll, reduction);
  });
}

/**
 * Elementwise −log q(θ | η) from η1, η2, θ of one shape, in tfjs ops: the same cancellation-free
 * formula as `vonMisesNllNumber`, with sin taken by `sinStable` (wasm's sin is wrong near 0 and for
 * negative arguments). Small κ uses log I0(√(η·η)), smooth at η = 0; twice differentiable in
 * the `tensor` variant.
 */
function nllFromAngleOps(
  e1: tf.Tensor,
  e2: tf.Tensor,
  theta: tf.Tensor,
  variant: 'auto' | 'tensor',
): tf.Tensor {
  const c = tf.cos(theta);
  const s = sinStable(theta);
  const a = tf.add(tf.mul(e1, c), tf.mul(e2, s)); // η·T(θ) = κ cos(θ − μ)
  const sq = tf.add(tf.square(e1), tf.square(e2));
  const small = tf.sub(specialVariants.logI0OfSquare[variant](sq), a);
  const isSmall = detachedCompare('less', sq, 1);
  const k = tf.sqrt(tf.maximum(sq, 1));
  const cross = tf.sub(tf.mul(e1, s), tf.mul(e2, c));
  const diff = tf.where(
    detachedCompare('greater', a, 0),
    tf.div(tf.square(cross), tf.add(k, tf.relu(a))),
    tf.sub(k, tf.minimum(a, 0)),
  );
  const large = tf.add(diff, specialVariants.logI0e[variant](k));
  return tf.add(tf.where(isSmall, small, large), LOG_2PI);
}

function angleOps(
  eta: tf.Tensor,
  theta: tf.Tensor,
  reduction: NllReduction,
  variant: 'auto' | 'tensor',
): tf.Tensor {
  return tf.tidy(() => {
    const [e1, e2] = tf.unstack(eta, 1) as [tf.Tensor, tf.Tensor];
    return reduce(nllFromAngleOps(e1, e2, theta, variant), reduction);
  });
}

/**
 * The angle form with tfjs ops only (special functions in `tensor` mode whatever the mode
 * setting): −log q(θ | η) for η `[batch, 2]` and θ `[batch]`, twice differentiable.
 */
export function vonMisesNllFromAnglePlain(
  eta: tf.Tensor,
  theta: tf.Tensor,
  reduction: NllReduction = 'mean',
): tf.Tensor {
  check(eta, theta, reduction, 'angle');
  return angleOps(eta, theta, reduction, 'tensor');
}

/**
 * Negative log-likelihood of the von Mises distribution in natural parameters,
 * −log q(θ | η) = −η·(cos θ, sin θ) + log 2π + log I0(‖η‖), as one fused kernel on wasm and cpu
 * with its closed-form gradient (dη = A(κ) η/κ − t, A = I1/I0; stable at κ → 0 and κ → ∞).
 *
 * @param eta `[batch, 2]` natural parameters
 * @param t   `[batch, 2]` sufficient statistics (cos θ, sin θ), used as given
 * @param reduction `'mean'` (default) and `'sum'` give a scalar, `'none'` gives `[batch]`
 */
export function vonMisesNll(eta: tf.Tensor, t: tf.Tensor, reduction: NllReduction = 'mean'): tf.Tensor {
  check(eta, t, reduction, 'statistic');
  if (!hasFusedKernel(VonMisesNll)) return vonMisesNllPlain(eta, t, reduction);
  const attrs: NllAttrs = { reduction, form: 'statistic' };
  return tf.engine().runKernel(VonMisesNll, { eta, t }, attrs as unknown as tf.NamedAttrMap);
}

/**
 * The same loss from the angle θ `[batch]` instead of (cos θ, sin θ): cos and sin are taken in
 * float64 inside the kernel and the difference κ − η·T is formed without cancellation, so the
 * loss keeps float32 accuracy at any κ (κ = 1e6: the statistic form loses ~κ·6e-8 to the rounding
 * of its input). Gradients for η and θ. Falls back to tfjs ops on backends without the kernel.
 */
export function vonMisesNllFromAngle(
  eta: tf.Tensor,
  theta: tf.Tensor,
  reduction: NllReduction = 'mean',
): tf.Tensor {
  check(eta, theta, reduction, 'angle');
  if (!hasFusedKernel(VonMisesNll)) return angleOps(eta, theta, reduction, 'auto');
  const attrs: NllAttrs = { reduction, form: 'angle' };
  return tf.engine().runKernel(VonMisesNll, { eta, t: theta }, attrs as unknown as tf.NamedAttrMap);
}
