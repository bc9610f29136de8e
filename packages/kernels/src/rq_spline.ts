import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';

/**
 * Kernel name of the monotone rational-quadratic spline of Durkan et al. (2019, "Neural Spline
 * Flows") with identity tails, applied elementwise: (x `[m]`, raw `[m, 3K − 1]`) → (y `[m]`,
 * log |dy/dx| `[m]`), forward or inverse (attr `inverse`). One kernel per coupling layer instead of
 * the ≈ 450 tfjs kernels of its op composition (softmax, cumsum, bin gather, the rational map and
 * their gradients).
 *
 * Parameterization (as `@gcvi/flows`' `rqSpline`): widths and heights are
 * `min + (1 − min·K)·softmax(raw)` of 2B, left edges −B + 2B·(exclusive cumulative sum); the K − 1
 * interior knot derivatives are `minDerivative + softplus(raw + c)`, c = log(expm1(1 − minDerivative))
 * (raw = 0 gives derivative 1), the two boundary derivatives are 1; outside [−B, B] the map is y = x.
 */
export const GcviRqSpline = 'GcviRqSpline';
/**
 * Its gradient: (dy, dlogDet, x, raw) → (dx `[m]`, draw `[m, 3K − 1]`), the analytic derivative
 * (implicit-function form for the inverse), computed in float64.
 */
export const GcviRqSplineGrad = 'GcviRqSplineGrad';

export interface RqSplineAttrs {
  readonly bins: number;
  readonly bound: number;
  readonly minBinWidth: number;
  readonly minBinHeight: number;
  readonly minDerivative: number;
  readonly inverse: boolean;
}

/** Per-call scratch: the bin table of one element (float64). */
interface Scratch {
  sw: Float64Array; // softmax of the widths
  sh: Float64Array; // softmax of the heights
  xk: Float64Array; // K + 1 x knots
  yk: Float64Array; // K + 1 y knots
  d: Float64Array; // K + 1 knot derivatives
  sig: Float64Array; // K + 1 sigmoid(raw + c) (∂d/∂raw) at interior knots
}

function scratch(K: number): Scratch {
  return {
    sw: new Float64Array(K),
    sh: new Float64Array(K),
    xk: new Float64Array(K + 1),
    yk: new Float64Array(K + 1),
    d: new Float64Array(K + 1),
    sig: new Float64Array(K + 1),
  };
}

function softmaxRow(raw: Float32Array, off: number, K: number, out: Float64Array): void {
  let mx = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < K; j++) mx = Math.max(mx, raw[off + j] as number);
  let s = 0;
  for (let j = 0; j < K; j++) {
    const e = Math.exp((raw[off + j] as number) - mx);
    out[j] = e;
    s += e;
  }
  for (let j = 0; j < K; j++) out[j] = (out[j] as number) / s;
}

/** Fill the knot table of row i of raw (widths, heights, interior derivatives). */
function fillTable(raw: Float32Array, i: number, a: RqSplineAttrs, c: number, sc: Scratch): void {
  const K = a.bins;
  const P = 3 * K - 1;
  const off = i * P;
  const B = a.bound;
  softmaxRow(raw, off, K, sc.sw);
  softmaxRow(raw, off + K, K, sc.sh);
  const fw = 1 - a.minBinWidth * K;
  const fh = 1 - a.minBinHeight * K;
  let cx = 0;
  let cy = 0;
  sc.xk[0] = -B;
  sc.yk[0] = -B;
  for (let j = 0; j < K; j++) {
    cx += a.minBinWidth + fw * (sc.sw[j] as number);
    cy += a.minBinHeight + fh * (sc.sh[j] as number);
    sc.xk[j + 1] = 2 * B * cx - B;
    sc.yk[j + 1] = 2 * B * cy - B;
  }
  sc.d[0] = 1;
  sc.d[K] = 1;
  for (let j = 1; j < K; j++) {
    const r = (raw[off + 2 * K + j - 1] as number) + c;
    // softplus and its derivative, stable for large |r|
    sc.d[j] = a.minDerivative + (r > 0 ? r + Math.log1p(Math.exp(-r)) : Math.log1p(Math.exp(r)));
    sc.sig[j] = 1 / (1 + Math.exp(-r));
  }
}

/** Bin of v among knots[0..K] (the same search as the op composition: left edges, last bin closed). */
function findBin(knots: Float64Array, K: number, v: number): number {
  let k = 0;
  while (k < K - 1 && v >= (knots[k + 1] as number)) k++;
  return k;
}

/** ξ of the inverse: the stable root 2c / (−b − √disc) of a ξ² + b ξ + c = 0 (Durkan et al. eq. 29). */
function inverseXi(yv: number, y0: number, h: number, s: number, d0: number, d1: number): number {
  const D = d0 + d1 - 2 * s;
  const dy = yv - y0;
  const qa = h * (s - d0) + dy * D;
  const qb = h * d0 - dy * D;
  const qc = -s * dy;
  const disc = Math.max(0, qb * qb - 4 * qa * qc);
  const den = -qb - Math.sqrt(disc);
  return den === 0 ? 0 : (2 * qc) / den;
}

/** log dy/dx of the forward map at ξ: 2 log s + log N2 − 2 log den. */
function logDeriv(xi: number, s: number, d0: number, d1: number): number {
  const t = xi * (1 - xi);
  const den = s + (d0 + d1 - 2 * s) * t;
  const n2 = d1 * xi * xi + 2 * s * t + d0 * (1 - xi) * (1 - xi);
  return 2 * Math.log(s) + Math.log(n2) - 2 * Math.log(den);
}

function attrsOf(attrs: tf.NamedAttrMap): RqSplineAttrs {
  return attrs as unknown as RqSplineAttrs;
}

function forward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { x, raw } = inputs as Record<string, tf.TensorInfo>;
  const a = attrsOf(attrs);
  const m = x!.shape[0] as number;
  const K = a.bins;
  const B = a.bound;
  const c = Math.log(Math.expm1(1 - a.minDerivative));
  return runJsKernel(GcviRqSpline, backendName, backend, [x!, raw!], [[m], [m]], (ins, outs) => {
    const [xv, rv] = ins as [Float32Array, Float32Array];
    const [yOut, ldOut] = outs as [Float32Array, Float32Array];
    const sc = scratch(K);
    for (let i = 0; i < m; i++) {
      const v = xv[i] as number;
      if (!(Math.abs(v) <= B)) {
        yOut[i] = v;
        ldOut[i] = 0;
        continue;
      }
      fillTable(rv, i, a, c, sc);
      const k = findBin(a.inverse ? sc.yk : sc.xk, K, v);
      const x0 = sc.xk[k] as number;
      const w = (sc.xk[k + 1] as number) - x0;
      const y0 = sc.yk[k] as number;
      const h = (sc.yk[k + 1] as number) - y0;
      const d0 = sc.d[k] as number;
      const d1 = sc.d[k + 1] as number;
      const s = h / w;
      if (!a.inverse) {
        const xi = (v - x0) / w;
        const t = xi * (1 - xi);
        const den = s + (d0 + d1 - 2 * s) * t;
        yOut[i] = y0 + (h * (s * xi * xi + d0 * t)) / den;
        ldOut[i] = logDeriv(xi, s, d0, d1);
      } else {
        const xi = inverseXi(v, y0, h, s, d0, d1);
        yOut[i] = x0 + xi * w;
        ldOut[i] = -logDeriv(xi, s, d0, d1);
      }
    }
  });
}

/**
 * Backward. At the element's ξ (forward: from x; inverse: the root), with t = ξ(1 − ξ),
 * D = d0 + d1 − 2s, num = sξ² + d0 t, den = s + D t, N2 = d1ξ² + 2st + d0(1 − ξ)²:
 * Y = y0 + h·num/den and L = 2 log s + log N2 − 2 log den; their partials in (ξ, s, h, d0, d1, y0)
 * are chained to (x0, w, y0, h, d0, d1) of the bin (ξ = (x − x0)/w, s = h/w), then through the
 * cumulative sums, softmaxes and softplus to raw. A parameter's gradient is a·∂Y/∂p + b·∂L/∂p:
 * forward a = dy, b = dlogDet; inverse (x = Y⁻¹(y), logDet = −L) by the implicit function theorem,
 * G = dx − dlogDet·∂L/∂x, a = −G/Y', b = −dlogDet, and d input = G/Y'.
 */
function backward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { dy, dld, x, raw } = inputs as Record<string, tf.TensorInfo>;
  const a = attrsOf(attrs);
  const m = x!.shape[0] as number;
  const K = a.bins;
  const P = 3 * K - 1;
  const B = a.bound;
  const c = Math.log(Math.expm1(1 - a.minDerivative));
  const fw = 1 - a.minBinWidth * K;
  const fh = 1 - a.minBinHeight * K;
  return runJsKernel(
    GcviRqSplineGrad,
    backendName,
    backend,
    [dy!, dld!, x!, raw!],
    [[m], [m, P]],
    (ins, outs) => {
      const [gyv, gldv, xv, rv] = ins as [Float32Array, Float32Array, Float32Array, Float32Array];
      const [dx, draw] = outs as [Float32Array, Float32Array];
      draw.fill(0);
      const sc = scratch(K);
      const gFrac = new Float64Array(K);
      for (let i = 0; i < m; i++) {
        const v = xv[i] as number;
        const gy = gyv[i] as number;
        const gld = gldv[i] as number;
        if (!(Math.abs(v) <= B)) {
          dx[i] = gy; // identity tail (log-det 0)
          continue;
        }
        fillTable(rv, i, a, c, sc);
        const k = findBin(a.inverse ? sc.yk : sc.xk, K, v);
        const x0 = sc.xk[k] as number;
        const w = (sc.xk[k + 1] as number) - x0;
        const y0 = sc.yk[k] as number;
        const h = (sc.yk[k + 1] as number) - y0;
        const d0 = sc.d[k] as number;
        const d1 = sc.d[k + 1] as number;
        const s = h / w;
        const xi = a.inverse ? inverseXi(v, y0, h, s, d0, d1) : (v - x0) / w;
        const t = xi * (1 - xi);
        const tp = 1 - 2 * xi;
        const D = d0 + d1 - 2 * s;
        const num = s * xi * xi + d0 * t;
        const den = s + D * t;
        const n2 = d1 * xi * xi + 2 * s * t + d0 * (1 - xi) * (1 - xi);
        // partials of Y (h·num/den + y0) and L in the primary variables
        const hd2 = h / (den * den);
        const Yxi = hd2 * ((2 * s * xi + d0 * tp) * den - num * D * tp);
        const Ys = hd2 * (xi * xi * den - num * (1 - 2 * t));
        const Yh = num / den;
        const Yd0 = hd2 * (t * den - num * t);
        const Yd1 = hd2 * (-num * t);
        const Lxi = (2 * d1 * xi + 2 * s * tp - 2 * d0 * (1 - xi)) / n2 - (2 * D * tp) / den;
        const Ls = 2 / s + (2 * t) / n2 - (2 * (1 - 2 * t)) / den;
        const Ld0 = ((1 - xi) * (1 - xi)) / n2 - (2 * t) / den;
        const Ld1 = (xi * xi) / n2 - (2 * t) / den;
        let ca: number;
        let cb: number;
        if (!a.inverse) {
          ca = gy;
          cb = gld;
          dx[i] = (ca * Yxi + cb * Lxi) / w;
        } else {
          const fp = (s * s * n2) / (den * den); // Y'(x) = s² N2 / den²
          const G = gy - (gld * Lxi) / w;
          dx[i] = G / fp;
          ca = -G / fp;
          cb = -gld;
        }
        const Gxi = ca * Yxi + cb * Lxi;
        const Gs = ca * Ys + cb * Ls;
        const Gh = ca * Yh + Gs / w;
        const Gw = (-Gxi * xi) / w - (Gs * s) / w;
        const Gx0 = -Gxi / w;
        const Gy0 = ca;
        const Gd0 = ca * Yd0 + cb * Ld0;
        const Gd1 = ca * Yd1 + cb * Ld1;
        const off = i * P;
        // widths: x0 = −B + 2B Σ_{j<k} frac_j, w = 2B frac_k; frac = min + fw·softmax
        const softBack = (soft: Float64Array, gEdge: number, gSize: number, f: number, base: number) => {
          let dot = 0;
          for (let j = 0; j < K; j++) {
            const g = 2 * B * f * (j < k ? gEdge : j === k ? gSize : 0);
            gFrac[j] = g;
            dot += (soft[j] as number) * g;
          }
          for (let j = 0; j < K; j++)
            draw[off + base + j] = (soft[j] as number) * ((gFrac[j] as number) - dot);
        };
        softBack(sc.sw, Gx0, Gw, fw, 0);
        softBack(sc.sh, Gy0, Gh, fh, K);
        // interior derivatives d_j (j = 1..K − 1) ↔ raw[2K + j − 1]
        if (k >= 1) draw[off + 2 * K + k - 1] = Gd0 * (sc.sig[k] as number);
        if (k + 1 <= K - 1) draw[off + 2 * K + k] = Gd1 * (sc.sig[k + 1] as number);
      }
    },
  );
}

/** Whether `rqSplineFused` runs as the fused kernel on the active backend. */
export function hasRqSpline(): boolean {
  return hasFusedKernel(GcviRqSpline);
}

/**
 * The rational-quadratic spline (or its inverse) as one fused kernel: `x` `[m]`, `raw` `[m, 3K − 1]`
 * (widths, heights, interior derivatives, unconstrained) → `y` `[m]` and log |dy/dx| of the direction
 * applied `[m]`, differentiable in both inputs (registered analytic gradient). Only on wasm and cpu:
 * callers check `hasRqSpline()` and use their op composition elsewhere.
 */
export function rqSplineFused(
  x: tf.Tensor,
  raw: tf.Tensor,
  attrs: RqSplineAttrs,
): { y: tf.Tensor1D; logDet: tf.Tensor1D } {
  const K = attrs.bins;
  if (!Number.isInteger(K) || K < 2) throw new ConfigError('bins', `must be an integer ≥ 2, got ${K}`);
  if (!(attrs.bound > 0)) throw new ConfigError('bound', `must be positive, got ${attrs.bound}`);
  if (!(attrs.minBinWidth * K < 1) || !(attrs.minBinHeight * K < 1))
    throw new ConfigError('minBinWidth', `min bin width/height × bins must be < 1`);
  if (x.rank !== 1) throw new ShapeError('x', '[m]', x.shape);
  if (raw.rank !== 2 || raw.shape[0] !== x.shape[0] || raw.shape[1] !== 3 * K - 1)
    throw new ShapeError('raw', `[${x.shape[0]}, ${3 * K - 1}]`, raw.shape);
  if (!hasRqSpline()) throw new Error(`${GcviRqSpline} is not registered for backend '${tf.getBackend()}'`);
  const [y, logDet] = tf
    .engine()
    .runKernel(GcviRqSpline, { x, raw }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y: y as tf.Tensor1D, logDet: logDet as tf.Tensor1D };
}

/** The spline kernels on wasm and cpu (config values for register_all.ts). */
export const rqSplineKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(GcviRqSpline, forward),
  ...jsKernelConfigs(GcviRqSplineGrad, backward),
];

/** Gradient of GcviRqSpline: one pass of the grad kernel gives both input gradients. */
export const rqSplineGradConfig: tf.GradConfig = {
  kernelName: GcviRqSpline,
  inputsToSave: ['x', 'raw'],
  gradFunc: ((dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, raw] = saved as [tf.Tensor, tf.Tensor];
    const [dy, dld] = (Array.isArray(dys) ? dys : [dys, tf.zerosLike(x)]) as [tf.Tensor, tf.Tensor];
    // Eager, both at once: each input's closure runs in its own tidy, so a lazily cached second
    // output would be disposed by the first closure's tidy (this runs in the backward pass's tidy).
    const g = tf.engine().runKernel(GcviRqSplineGrad, { dy, dld, x, raw }, attrs) as tf.Tensor[];
    return { x: () => g[0] as tf.Tensor, raw: () => g[1] as tf.Tensor };
  }) as never,
};
