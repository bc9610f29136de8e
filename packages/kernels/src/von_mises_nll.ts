import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import {
  type FusedBackendName,
  hasFusedKernel,
  type KernelInputs,
  registerJsKernel,
  runJsKernel,
} from './js_kernel.js';
import { besselRatioOverKappa, logI0 } from './special.js';

/** Kernel name: von Mises negative log-likelihood in natural parameters. */
export const VonMisesNll = 'GcviVonMisesNll';
/** Kernel name of its backward pass: (dy, η, t) → (dη, dt). */
export const VonMisesNllGrad = 'GcviVonMisesNllGrad';

export type NllReduction = 'none' | 'mean' | 'sum';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Forward: nll_b = −η_b·t_b + log 2π + log I0(‖η_b‖), with η `[batch, 2]` natural parameters and
 * t = (cos θ, sin θ) `[batch, 2]`; log I0 in float64 (series / Hankel expansion: no overflow).
 */
function forward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const { eta, t } = inputs;
  const reduction = attrs.reduction as NllReduction;
  const batch = eta.shape[0];
  const outShape = reduction === 'none' ? [batch] : [];
  const [out] = runJsKernel(VonMisesNll, backendName, backend, [eta, t], [outShape], (ins, outs) => {
    const [e, tv] = ins;
    const y = outs[0];
    let total = 0;
    for (let b = 0; b < batch; b++) {
      const e0 = e[2 * b];
      const e1 = e[2 * b + 1];
      const nll = -(e0 * tv[2 * b] + e1 * tv[2 * b + 1]) + LOG_2PI + logI0(Math.hypot(e0, e1));
      if (reduction === 'none') y[b] = nll;
      total += nll;
    }
    if (reduction === 'sum') y[0] = total;
    else if (reduction === 'mean') y[0] = total / batch;
  });
  return out;
}

/** Backward: dη_b = w_b (A(κ_b) η_b/κ_b − t_b), dt_b = −w_b η_b, w_b the incoming gradient. */
function backward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo[] {
  const { dy, eta, t } = inputs;
  const reduction = attrs.reduction as NllReduction;
  const batch = eta.shape[0];
  return runJsKernel(
    VonMisesNllGrad,
    backendName,
    backend,
    [dy, eta, t],
    [
      [batch, 2],
      [batch, 2],
    ],
    (ins, outs) => {
      const [dyv, e, tv] = ins;
      const [de, dt] = outs;
      for (let b = 0; b < batch; b++) {
        const w = reduction === 'none' ? dyv[b] : reduction === 'mean' ? dyv[0] / batch : dyv[0];
        const e0 = e[2 * b];
        const e1 = e[2 * b + 1];
        const r = besselRatioOverKappa(Math.hypot(e0, e1));
        de[2 * b] = w * (r * e0 - tv[2 * b]);
        de[2 * b + 1] = w * (r * e1 - tv[2 * b + 1]);
        dt[2 * b] = -w * e0;
        dt[2 * b + 1] = -w * e1;
      }
    },
  );
}

let registered = false;

/** Register the von Mises NLL kernels (wasm, cpu) and the gradient. Idempotent; runs on import. */
export function registerVonMisesNll(): void {
  if (registered) return;
  registered = true;
  registerJsKernel(VonMisesNll, forward);
  registerJsKernel(VonMisesNllGrad, backward);
  if (!tf.getGradient(VonMisesNll)) {
    tf.registerGradient({
      kernelName: VonMisesNll,
      inputsToSave: ['eta', 't'],
      gradFunc: (dy, saved, attrs) => {
        const [eta, t] = saved;
        const [de, dt] = tf
          .engine()
          .runKernel(
            VonMisesNllGrad,
            { dy: dy as tf.Tensor, eta, t },
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        return { eta: () => de, t: () => dt };
      },
    });
  }
}

function check(eta: tf.Tensor, t: tf.Tensor, reduction: string): void {
  if (eta.rank !== 2 || eta.shape[1] !== 2) throw new ShapeError('eta', '[batch, 2]', eta.shape);
  if (t.rank !== 2 || t.shape[0] !== eta.shape[0] || t.shape[1] !== 2) {
    throw new ShapeError('t', `[${eta.shape[0]}, 2]`, t.shape);
  }
  if (eta.dtype !== 'float32') throw new ConfigError('eta', `must be float32, got ${eta.dtype}`);
  if (t.dtype !== 'float32') throw new ConfigError('t', `must be float32, got ${t.dtype}`);
  if (reduction !== 'none' && reduction !== 'mean' && reduction !== 'sum') {
    throw new ConfigError('reduction', `must be 'none', 'mean' or 'sum', got '${reduction}'`);
  }
}

/** log I0(κ) with plain tfjs ops: A&S 9.8.1/9.8.2 (relative error < 2e-7), differentiable. */
export function logI0Plain(kappa: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.minimum(kappa, 3.75);
    const t2 = tf.square(tf.div(small, 3.75));
    const cs = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813];
    let ps: tf.Tensor = tf.scalar(cs[6]);
    for (let i = 5; i >= 0; i--) ps = tf.add(tf.mul(ps, t2), cs[i]);
    const large = tf.maximum(kappa, 3.75);
    const u = tf.div(3.75, large);
    const cl = [
      0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537, -0.01647633,
      0.00392377,
    ];
    let pl: tf.Tensor = tf.scalar(cl[8]);
    for (let i = 7; i >= 0; i--) pl = tf.add(tf.mul(pl, u), cl[i]);
    const logLarge = tf.add(tf.sub(large, tf.mul(0.5, tf.log(large))), tf.log(pl));
    // A 0/1 mask through tf.step (LessEqual has no registered gradient in tfjs).
    const mask = tf.step(tf.sub(3.75, kappa));
    return tf.add(tf.mul(mask, tf.log(ps)), tf.mul(tf.sub(1, mask), logLarge));
  });
}

/** The same loss with plain tfjs ops (reference for tests; fallback on other backends). */
export function vonMisesNllPlain(eta: tf.Tensor, t: tf.Tensor, reduction: NllReduction = 'mean'): tf.Tensor {
  check(eta, t, reduction);
  return tf.tidy(() => {
    const kappa = tf.sqrt(tf.sum(tf.square(eta), 1));
    const nll = tf.add(tf.sub(logI0Plain(kappa), tf.sum(tf.mul(eta, t), 1)), LOG_2PI);
    return reduction === 'none' ? nll : reduction === 'mean' ? tf.mean(nll) : tf.sum(nll);
  });
}

/**
 * Negative log-likelihood of the von Mises distribution in natural parameters,
 * −log q(θ | η) = −η·(cos θ, sin θ) + log 2π + log I0(‖η‖), as one fused kernel on wasm and cpu
 * with its closed-form gradient (dη = A(κ) η/κ − t, A = I1/I0; stable at κ → 0 and κ → ∞).
 *
 * @param eta `[batch, 2]` natural parameters
 * @param t   `[batch, 2]` sufficient statistics (cos θ, sin θ)
 * @param reduction `'mean'` (default) and `'sum'` give a scalar, `'none'` gives `[batch]`
 */
export function vonMisesNll(eta: tf.Tensor, t: tf.Tensor, reduction: NllReduction = 'mean'): tf.Tensor {
  check(eta, t, reduction);
  if (!hasFusedKernel(VonMisesNll)) return vonMisesNllPlain(eta, t, reduction);
  return tf.engine().runKernel(VonMisesNll, { eta, t }, { reduction });
}
