/**
 * Modified Bessel functions of the first kind, orders 0 and 1, in the forms the von Mises family
 * needs: log I0(κ), log I0(κ) − |κ|, the ratio A(κ) = I1(κ)/I0(κ), 1 − A(κ) and A(κ)/κ. The one
 * implementation in gcvi: plain-number float64 versions (`…Number`) and tensor versions with
 * gradients. Evaluated without overflow for any finite κ:
 *
 * - small κ: the power series I0 = Σ yᵏ/(k!)², I1/κ = ½ Σ yᵏ/(k!(k+1)!), y = κ²/4 (all terms
 *   positive, so no cancellation; float64: κ < 20, summed to 1e-17; tensors: κ < 8, 18 terms);
 * - large κ: the asymptotic expansion I_ν(κ) = e^κ/√(2πκ) Σ (−1)ᵏ aₖ(ν)/κᵏ (16 terms; truncation
 *   error below 1e-8 relative at κ = 8, ~1e-15 at κ = 20, shrinking fast as κ grows); the ratio
 *   is written as 1 − u·Q(u), u = 1/κ, with Q the series quotient, so 1 − I1/I0 keeps its
 *   relative precision.
 *
 * Tensor gradients (`tf.customGrad`): d/dκ log I0 = I1/I0, d/dκ (I1/I0) = 1 − (I1/I0)/κ − (I1/I0)²
 * (evaluated from the series where the formula would cancel). log I0 and log I0e are twice
 * differentiable in both modes (see `SpecialFunctionMode`).
 */

import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { detachedCompare } from './mask.js';

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

const A0TAIL = A0.slice(1); // √(2πκ) e^{−κ} I0(κ) = 1 + u · Σ A0TAIL[k] uᵏ
const D1 = D.slice(1); // 1 − r = u · Σ D1[k] uᵏ
const DD = D.slice(1).map((d, k) => d * (k + 1)); // d/du (1 − r) = Σ DD[k] uᵏ

// ---------------------------------------------------------------------------------------------
// Plain-number versions (float64), for host-side code (fused kernels, samplers) and tests.

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

/** log I0(κ) − |κ| in float64 (relative error ~1e-13 or better; −∞ at κ = ±∞). */
export function logI0eNumber(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) return Math.log(seriesN(k)[0]) - k;
  const u = 1 / k;
  return Math.log1p(u * hornerN(A0TAIL, u)) - 0.5 * Math.log(2 * Math.PI * k);
}

/** log I0(κ) in float64 (even in κ; +∞ at κ = ±∞, NaN at NaN). */
export function logI0Number(kappa: number): number {
  const k = Math.abs(kappa);
  if (k === Number.POSITIVE_INFINITY) return k;
  return logI0eNumber(k) + k;
}

/** 1 − I1(|κ|)/I0(|κ|) in float64 (keeps precision as the ratio approaches 1). */
export function oneMinusI1OverI0Number(kappa: number): number {
  const k = Math.abs(kappa);
  if (k < SPLIT_N) {
    const [s0, s1] = seriesN(k);
    return 1 - (k * s1) / s0;
  }
  const u = 1 / k;
  return u * hornerN(D1, u);
}

/** I1(κ)/I0(κ) in float64 (odd in κ; A(0) = 0, A → ±1 as κ → ±∞). */
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

// ---------------------------------------------------------------------------------------------
// Tensor versions: raw branches (plain tfjs ops, for k = |κ| ≥ 0).

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

/** log I0(k) − k. */
function logI0eRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.sub(tf.log(p.p0), k);
  const large = tf.sub(
    tf.log1p(tf.mul(p.u, hornerT(A0TAIL, p.u))),
    tf.mul(0.5, tf.log(tf.mul(p.kl, 2 * Math.PI))),
  );
  return tf.where(p.small, small, large);
}
/** log I0(k), +∞ at k = +∞ (not −∞ + ∞). */
function logI0Raw(k: tf.Tensor): tf.Tensor {
  const finite = tf.add(logI0eRaw(k), k);
  return tf.where(detachedCompare('less', k, Number.POSITIVE_INFINITY), finite, k);
}
/** 1 − I1(k)/I0(k). */
function oneMinusRatioRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.sub(1, tf.div(tf.mul(tf.minimum(k, SPLIT), p.p1), p.p0));
  const large = tf.mul(p.u, hornerT(D1, p.u));
  return tf.where(p.small, small, large);
}
/** I1(k)/I0(k) (small branch computed directly, so small ratios keep relative precision). */
function ratioRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.div(tf.mul(tf.minimum(k, SPLIT), p.p1), p.p0);
  const large = tf.sub(1, tf.mul(p.u, hornerT(D1, p.u)));
  return tf.where(p.small, small, large);
}
/** I1(k)/(k I0(k)) (→ 1/2 at k = 0). */
function ratioOverKappaRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const small = tf.div(p.p1, p.p0);
  const large = tf.mul(tf.sub(1, tf.mul(p.u, hornerT(D1, p.u))), p.u);
  return tf.where(p.small, small, large);
}
/** d/dk (I1/I0). */
function ratioDerivRaw(k: tf.Tensor): tf.Tensor {
  const p = pieces(k);
  const rk = tf.div(p.p1, p.p0);
  const r = tf.mul(rk, tf.minimum(k, SPLIT));
  const small = tf.sub(tf.sub(1, rk), tf.square(r));
  const large = tf.mul(tf.square(p.u), hornerT(DD, p.u));
  return tf.where(p.small, small, large);
}

// ---------------------------------------------------------------------------------------------
// Where the tensor versions run.

/**
 * Where the tensor special functions run. `tensor`: as tfjs ops (the branches above; about a
 * hundred small kernels per call). `host`: read the argument, evaluate the float64 plain-number
 * versions in JS and upload the float32 result (one synchronous read; on the cpu, wasm and
 * tensorflow backends the data already lives in host memory, so this is far cheaper for the small
 * batches of a training step and more accurate). `auto` (default): `host` on cpu/wasm/tensorflow,
 * `tensor` elsewhere.
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

/** True when the special functions currently run on the host (mode `host`, or `auto` on a host backend). */
export function specialFunctionsOnHost(): boolean {
  if (mode !== 'auto') return mode === 'host';
  return HOST_BACKENDS.has(tf.getBackend());
}

/** Apply a float64 function elementwise on the host; float32 result of the same shape. */
function hostMap(x: tf.Tensor, f: (v: number) => number): tf.Tensor {
  const d = x.dataSync();
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = f(d[i] as number);
  return tf.tensor(out, x.shape, 'float32');
}

/** `auto` follows the mode; `host` and `tensor` are fixed (the `…Plain` exports use `tensor`). */
type Variant = 'auto' | 'host' | 'tensor';
type Unary = (x: tf.Tensor) => tf.Tensor;

function useHost(v: Variant): boolean {
  return v === 'auto' ? specialFunctionsOnHost() : v === 'host';
}

/**
 * One differentiable special function in its three variants: value from `host` (float64, per
 * element) or `tensor` (tfjs ops), gradient dy · `deriv(x, variant)` (the derivative in the same
 * variant, itself differentiable where it is built from the other functions here).
 */
function special(
  host: (v: number) => number,
  tensor: Unary,
  deriv: (x: tf.Tensor, v: Variant) => tf.Tensor,
): Record<Variant, Unary> {
  const make = (v: Variant): Unary =>
    tf.customGrad((x, save) => {
      const k = x as tf.Tensor;
      (save as tf.GradSaveFunc)([k]);
      const value = useHost(v) ? hostMap(k, host) : tf.tidy(() => tensor(k));
      return {
        value,
        gradFunc: (dy, saved) => tf.tidy(() => tf.mul(dy, deriv(saved[0] as tf.Tensor, v))),
      };
    }) as Unary;
  return { auto: make('auto'), host: make('host'), tensor: make('tensor') };
}

const RATIO = special(
  i1OverI0Number,
  (k) => tf.mul(tf.sign(k), ratioRaw(tf.abs(k))),
  (x, v) => (useHost(v) ? hostMap(x, i1OverI0DerivNumber) : ratioDerivRaw(tf.abs(x))),
);
const ONE_MINUS_RATIO = special(
  oneMinusI1OverI0Number,
  (k) => oneMinusRatioRaw(tf.abs(k)),
  (x, v) =>
    useHost(v)
      ? hostMap(x, (s) => -Math.sign(s) * i1OverI0DerivNumber(s))
      : tf.neg(tf.mul(tf.sign(x), ratioDerivRaw(tf.abs(x)))),
);
const LOG_I0 = special(
  logI0Number,
  (k) => logI0Raw(tf.abs(k)),
  (x, v) => RATIO[v](x),
);
const LOG_I0E = special(
  logI0eNumber,
  (k) => logI0eRaw(tf.abs(k)),
  (x, v) => tf.neg(tf.mul(tf.sign(x), ONE_MINUS_RATIO[v](x))),
);
const LOG_I0_OF_SQUARE = special(
  (s) => logI0Number(Math.sqrt(Math.max(s, 0))),
  (s) => logI0Raw(tf.sqrt(tf.relu(s))),
  (x, v) =>
    useHost(v)
      ? hostMap(x, (s) => 0.5 * i1OverI0OverKappaNumber(Math.sqrt(Math.max(s, 0))))
      : tf.mul(0.5, ratioOverKappaRaw(tf.sqrt(tf.relu(x)))),
);

/** I1(κ)/I0(κ), odd in κ; gradient 1 − r/κ − r². */
export const i1OverI0: Unary = RATIO.auto;

/** 1 − I1(|κ|)/I0(|κ|) (even in κ; precise as the ratio nears 1); gradient −sign(κ) A′(|κ|). */
export const oneMinusI1OverI0: Unary = ONE_MINUS_RATIO.auto;

/** log I0(κ), even in κ; gradient I1(κ)/I0(κ) (itself differentiable). Float32-accurate for any finite κ; +∞ at ±∞. */
export const logI0: Unary = LOG_I0.auto;

/** log I0(κ) with tfjs ops only, whatever the mode (the `tensor` mode of `logI0`). */
export const logI0Plain: Unary = LOG_I0.tensor;

/**
 * The exponentially scaled log I0: log I0(κ) − |κ| (no cancellation at large κ); gradient
 * I1/I0 − sign(κ), computed as −sign(κ)(1 − I1/I0).
 */
export const logI0e: Unary = LOG_I0E.auto;

/**
 * log I0(√s) as a function of s = κ² ≥ 0, with gradient ½ I1(κ)/(κ I0(κ)), which is smooth at
 * s = 0 (→ 1/4). Lets the von Mises log-density in natural parameters have finite gradients at η = 0.
 */
export const logI0OfSquare: Unary = LOG_I0_OF_SQUARE.auto;

/** The three variants of the functions above, for code that must pin where they run. */
export const specialVariants = {
  logI0: LOG_I0,
  logI0e: LOG_I0E,
  logI0OfSquare: LOG_I0_OF_SQUARE,
  i1OverI0: RATIO,
  oneMinusI1OverI0: ONE_MINUS_RATIO,
} as const;

/** I1(κ)/(κ I0(κ)) (1/2 at 0, even in κ). Not differentiable in host mode. */
export function i1OverI0OverKappa(kappa: tf.Tensor): tf.Tensor {
  if (specialFunctionsOnHost()) return hostMap(kappa, i1OverI0OverKappaNumber);
  return tf.tidy(() => ratioOverKappaRaw(tf.abs(kappa)));
}

// ---------------------------------------------------------------------------------------------
// sin with wasm's flaws worked around.

/** Below this |x|, sin x is the Taylor polynomial x − x³/6 + x⁵/120 (truncation < 2e-16 relative). */
const SIN_TAYLOR_MAX = 1e-2;

/**
 * sin(x) accurate to float32 near 0 and for negative x on every backend: tfjs-backend-wasm 4.22's
 * sin has an absolute error up to ~2.4e-7 for x < 0 (sin(−1e-8) = +1.7e-7) and a relative error up
 * to 1e-4 for tiny x > 0. Computed as sign(x)·sin(|x|), and x − x³/6 + x⁵/120 for |x| < 1e-2.
 * Differentiable (gradient cos x).
 */
export function sinStable(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(x);
    const x2 = tf.square(x);
    const taylor = tf.mul(x, tf.add(1, tf.mul(x2, tf.add(-1 / 6, tf.mul(x2, 1 / 120)))));
    const far = tf.mul(tf.sign(x), tf.sin(a));
    return tf.where(detachedCompare('less', a, SIN_TAYLOR_MAX), taylor, far);
  });
}
