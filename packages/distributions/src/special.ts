/**
 * Modified Bessel functions of the first kind, orders 0 and 1, in the forms the von Mises family
 * needs: log I0(κ), log I0(κ) − |κ| and the ratio I1(κ)/I0(κ). Evaluated without overflow for
 * any finite κ:
 *
 * - |κ| < 8: the power series I0 = Σ yᵏ/(k!)², I1/κ = ½ Σ yᵏ/(k!(k+1)!), y = κ²/4 (18 terms,
 *   all positive, so float32 Horner evaluation keeps full relative precision);
 * - |κ| ≥ 8: the asymptotic expansion I_ν(κ) = e^κ/√(2πκ) Σ (−1)ᵏ aₖ(ν)/κᵏ (16 terms; truncation
 *   error below 1e-8 relative at κ = 8, shrinking fast as κ grows); the ratio is written as
 *   1 − u·Q(u), u = 1/κ, with Q the series quotient, so 1 − I1/I0 keeps its relative precision.
 *
 * Gradients are registered with `tf.customGrad`: d/dκ log I0 = I1/I0, d/dκ (I1/I0) = 1 − (I1/I0)/κ −
 * (I1/I0)² (evaluated from the series where the formula would cancel).
 */

import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { detachedCompare } from './util.js';

const SPLIT = 8;
const N_SERIES = 18;
const N_ASYM = 16;

/** Series coefficients: I0 = Σ c0[k] yᵏ, I1/κ = Σ c1[k] yᵏ. */
const C0: number[] = [];
const C1: number[] = [];
{
  let f = 1;
  for (let k = 0; k < N_SERIES; k++) {
    if (k > 0) f *= k;
    C0.push(1 / (f * f));
    C1.push(0.5 / (f * f * (k + 1)));
  }
}

/** Asymptotic coefficients: √(2πκ) e^{−κ} I_ν(κ) ≈ Σ A_ν[k] uᵏ, u = 1/κ. */
const A0: number[] = [1];
const A1: number[] = [1];
for (let k = 1; k < N_ASYM; k++) {
  const j2 = (2 * k - 1) ** 2;
  A0.push(((A0[k - 1] as number) * j2) / (8 * k));
  A1.push(((A1[k - 1] as number) * (j2 - 4)) / (8 * k));
}
/** 1 − I1/I0 ≈ Σ_{k≥1} D[k] uᵏ (series division of A0 − A1 by A0). */
const D: number[] = [0];
{
  const num = A0.map((a, k) => a - (A1[k] as number)); // num[0] = 0
  // q = num / A0, power series division.
  const q: number[] = [];
  for (let k = 0; k < N_ASYM; k++) {
    let v = num[k] as number;
    for (let j = 0; j < k; j++) v -= (q[j] as number) * (A0[k - j] as number);
    q.push(v);
  }
  for (let k = 1; k < N_ASYM; k++) D.push(q[k] as number);
}

/** Horner evaluation of Σ c[k] xᵏ on tensors. */
function hornerT(coeffs: readonly number[], x: tf.Tensor): tf.Tensor {
  let acc: tf.Tensor = tf.scalar(coeffs[coeffs.length - 1] as number);
  for (let k = coeffs.length - 2; k >= 0; k--) acc = tf.add(tf.mul(acc, x), coeffs[k] as number);
  return acc;
}
function hornerN(coeffs: readonly number[], x: number): number {
  let acc = coeffs[coeffs.length - 1] as number;
  for (let k = coeffs.length - 2; k >= 0; k--) acc = acc * x + (coeffs[k] as number);
  return acc;
}

const D1 = D.slice(1); // 1 − r = u · Σ D1[k] uᵏ
const DD = D.slice(1).map((d, k) => d * (k + 1)); // d/du (1 − r) = Σ DD[k] uᵏ

/** The pieces every function here is built from, for |κ| = k ≥ 0 (no custom gradients). */
interface Pieces {
  small: tf.Tensor; // bool mask k < SPLIT
  p0: tf.Tensor; // series I0 (clamped branch)
  p1: tf.Tensor; // series I1/κ
  kl: tf.Tensor; // max(k, SPLIT)
  u: tf.Tensor; // 1 / kl
}
function pieces(k: tf.Tensor): Pieces {
  const ks = tf.minimum(k, SPLIT);
  const y = tf.mul(tf.square(ks), 0.25);
  const kl = tf.maximum(k, SPLIT);
  return {
    small: detachedCompare('less', k, SPLIT),
    p0: hornerT(C0, y),
    p1: hornerT(C1, y),
    kl,
    u: tf.reciprocal(kl),
  };
}

/** log I0(k) − k for k ≥ 0. */
function logI0eRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.sub(tf.log(p.p0), k);
  const large = tf.sub(
    tf.log1p(tf.mul(p.u, hornerT(A0.slice(1), p.u))),
    tf.mul(0.5, tf.log(tf.mul(p.kl, 2 * Math.PI))),
  );
  return tf.where(p.small, small, large);
}
/** 1 − I1(k)/I0(k) for k ≥ 0. */
function oneMinusRatioRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.sub(1, tf.div(tf.mul(tf.minimum(k, SPLIT), p.p1), p.p0));
  const large = tf.mul(p.u, hornerT(D1, p.u));
  return tf.where(p.small, small, large);
}
/** I1(k)/I0(k) for k ≥ 0 (small branch computed directly, so small ratios keep relative precision). */
function ratioRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.div(tf.mul(tf.minimum(k, SPLIT), p.p1), p.p0);
  const large = tf.sub(1, tf.mul(p.u, hornerT(D1, p.u)));
  return tf.where(p.small, small, large);
}
/** I1(k)/(k I0(k)) for k ≥ 0 (→ 1/2 at k = 0). */
function ratioOverKappaRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.div(p.p1, p.p0);
  const large = tf.mul(tf.sub(1, tf.mul(p.u, hornerT(D1, p.u))), p.u);
  return tf.where(p.small, small, large);
}
/** d/dk (I1/I0) for k ≥ 0. */
function ratioDerivRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const rk = tf.div(p.p1, p.p0);
  const r = tf.mul(rk, tf.minimum(k, SPLIT));
  const small = tf.sub(tf.sub(1, rk), tf.square(r));
  const large = tf.mul(tf.square(p.u), hornerT(DD, p.u));
  return tf.where(p.small, small, large);
}

/**
 * Where the special functions run. `tensor`: as tfjs ops (the branches above; about a hundred small
 * kernels per call). `host`: read the argument, evaluate the float64 plain-number versions below in
 * JS and upload the float32 result (one synchronous read; on the cpu, wasm and tensorflow backends
 * the data already lives in host memory, so this is far cheaper for the small batches of a training
 * step and more accurate). `auto` (default): `host` on cpu/wasm/tensorflow, `tensor` elsewhere.
 */
export type SpecialFunctionMode = 'auto' | 'host' | 'tensor';
let mode: SpecialFunctionMode = 'auto';

/** Choose where log I0 and I1/I0 are evaluated (see `SpecialFunctionMode`); returns the previous mode. */
export function setSpecialFunctionMode(m: SpecialFunctionMode): SpecialFunctionMode {
  if (m !== 'auto' && m !== 'host' && m !== 'tensor') {
    throw new ConfigError('mode', `must be 'auto', 'host' or 'tensor', got ${String(m)}`);
  }
  const prev = mode;
  mode = m;
  return prev;
}

const HOST_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);
export function onHost(): boolean {
  if (mode !== 'auto') return mode === 'host';
  return HOST_BACKENDS.has(tf.getBackend());
}

/** Apply a float64 function elementwise on the host; float32 result of the same shape. */
export function hostMap(x: tf.Tensor, f: (v: number) => number): tf.Tensor {
  const d = x.dataSync();
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = f(d[i] as number);
  return tf.tensor(out, x.shape, 'float32');
}

/** I1(κ)/I0(κ), odd in κ; gradient 1 − r/κ − r². */
export const i1OverI0: (kappa: tf.Tensor) => tf.Tensor = tf.customGrad((kappa, save) => {
  const k = kappa as tf.Tensor;
  (save as tf.GradSaveFunc)([k]);
  const value = onHost()
    ? hostMap(k, i1OverI0Number)
    : tf.tidy(() => tf.mul(tf.sign(k), ratioRaw(tf.abs(k))));
  return {
    value,
    gradFunc: (dy, saved) => {
      const x = saved[0] as tf.Tensor;
      return tf.tidy(() => tf.mul(dy, onHost() ? hostMap(x, i1OverI0DerivNumber) : ratioDerivRaw(tf.abs(x))));
    },
  };
}) as (kappa: tf.Tensor) => tf.Tensor;

/** log I0(κ), even in κ; gradient I1(κ)/I0(κ) (itself differentiable). Float32-accurate for any finite κ. */
export const logI0: (kappa: tf.Tensor) => tf.Tensor = tf.customGrad((kappa, save) => {
  const k = kappa as tf.Tensor;
  (save as tf.GradSaveFunc)([k]);
  const value = onHost()
    ? hostMap(k, logI0Number)
    : tf.tidy(() => {
        const a = tf.abs(k);
        return tf.add(logI0eRaw(a), a);
      });
  return { value, gradFunc: (dy, saved) => tf.mul(dy, i1OverI0(saved[0] as tf.Tensor)) };
}) as (kappa: tf.Tensor) => tf.Tensor;

/**
 * The exponentially scaled log I0: log I0(κ) − |κ| (no cancellation at large κ); gradient
 * I1/I0 − sign(κ), computed as −sign(κ)(1 − I1/I0).
 */
export const logI0e: (kappa: tf.Tensor) => tf.Tensor = tf.customGrad((kappa, save) => {
  const k = kappa as tf.Tensor;
  (save as tf.GradSaveFunc)([k]);
  const value = onHost() ? hostMap(k, logI0eNumber) : tf.tidy(() => logI0eRaw(tf.abs(k)));
  return {
    value,
    gradFunc: (dy, saved) => {
      const s = saved[0] as tf.Tensor;
      return tf.tidy(() =>
        tf.mul(
          dy,
          onHost()
            ? hostMap(s, (v) => -Math.sign(v) * oneMinusI1OverI0Number(v))
            : tf.neg(tf.mul(tf.sign(s), oneMinusRatioRaw(tf.abs(s)))),
        ),
      );
    },
  };
}) as (kappa: tf.Tensor) => tf.Tensor;

/**
 * log I0(√s) as a function of s = κ² ≥ 0, with gradient ½ I1(κ)/(κ I0(κ)), which is smooth at
 * s = 0 (→ 1/4). Lets the von Mises log-density in natural parameters have finite gradients at η = 0.
 */
export const logI0OfSquare: (s: tf.Tensor) => tf.Tensor = tf.customGrad((s, save) => {
  const sq = s as tf.Tensor;
  (save as tf.GradSaveFunc)([sq]);
  const value = onHost()
    ? hostMap(sq, (v) => logI0Number(Math.sqrt(Math.max(v, 0))))
    : tf.tidy(() => {
        const k = tf.sqrt(tf.relu(sq));
        return tf.add(logI0eRaw(k), k);
      });
  return {
    value,
    gradFunc: (dy, saved) => {
      const x = saved[0] as tf.Tensor;
      return tf.tidy(() =>
        tf.mul(
          dy,
          onHost()
            ? hostMap(x, (v) => 0.5 * i1OverI0OverKappaNumber(Math.sqrt(Math.max(v, 0))))
            : tf.mul(0.5, ratioOverKappaRaw(tf.sqrt(tf.relu(x)))),
        ),
      );
    },
  };
}) as (s: tf.Tensor) => tf.Tensor;

/** I1(κ)/(κ I0(κ)) (1/2 at 0, even in κ). Not differentiable in host mode. */
export function i1OverI0OverKappa(kappa: tf.Tensor): tf.Tensor {
  if (onHost()) return hostMap(kappa, i1OverI0OverKappaNumber);
  return tf.tidy(() => ratioOverKappaRaw(tf.abs(kappa)));
}

// ---------------------------------------------------------------------------------------------
// Plain-number versions (float64), for tests and host-side code such as samplers.

const SPLIT_N = 20;

/** Float64 power series for κ < SPLIT_N: [I0, I1/κ], summed until the terms stop mattering. */
function seriesN(k: number): [number, number] {
  const y = 0.25 * k * k;
  let t0 = 1;
  let s0 = 1;
  let t1 = 0.5;
  let s1 = 0.5;
  for (let j = 1; j < 200; j++) {
    t0 *= y / (j * j);
    t1 *= y / (j * (j + 1));
    s0 += t0;
    s1 += t1;
    if (t0 < 1e-17 * s0) break;
  }
  return [s0, s1];
}

/** log I0(κ) − |κ| in float64 (relative error ~1e-13 or better). */
export function logI0eNumber(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) return Math.log(seriesN(k)[0]) - k;
  const u = 1 / k;
  return Math.log1p(u * hornerN(A0.slice(1), u)) - 0.5 * Math.log(2 * Math.PI * k);
}

/** log I0(κ) in float64. */
export function logI0Number(kappa: number): number {
  return logI0eNumber(kappa) + Math.abs(kappa);
}

/** 1 − I1(κ)/I0(κ) in float64 for κ ≥ 0 (keeps precision as the ratio approaches 1). */
export function oneMinusI1OverI0Number(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) {
    const [s0, s1] = seriesN(k);
    return 1 - (k * s1) / s0;
  }
  const u = 1 / k;
  return u * hornerN(D1, u);
}

/** I1(κ)/I0(κ) in float64 (odd in κ). */
export function i1OverI0Number(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) {
    const [s0, s1] = seriesN(k);
    return (Math.sign(kappa) * k * s1) / s0;
  }
  return Math.sign(kappa) * (1 - oneMinusI1OverI0Number(k));
}

/** I1(κ)/(κ I0(κ)) in float64 (→ 1/2 at κ = 0; even in κ). */
export function i1OverI0OverKappaNumber(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) {
    const [s0, s1] = seriesN(k);
    return s1 / s0;
  }
  return (1 - oneMinusI1OverI0Number(k)) / k;
}

/** d/dκ (I1/I0) = 1 − (I1/I0)/κ − (I1/I0)² in float64 (even in κ). */
export function i1OverI0DerivNumber(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) {
    const [s0, s1] = seriesN(k);
    const rk = s1 / s0;
    return 1 - rk - (rk * k) ** 2;
  }
  const u = 1 / k;
  return u * u * hornerN(DD, u);
}
