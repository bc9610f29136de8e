import { hasRqSpline, rqSplineFused } from '@gcvi/kernels';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The monotone rational-quadratic spline of Durkan et al. (2019, "Neural Spline Flows"), with
 * identity (linear) tails: inside [−B, B] the map is a piecewise rational-quadratic function through
 * K + 1 knots, outside it is y = x. The boundary derivatives are fixed at 1 so the map and its
 * derivative are continuous at ±B.
 *
 * Parameters arrive unconstrained, one row per element: `widths` and `heights` `[m, K]` go through a
 * softmax (each bin at least `minBinWidth` / `minBinHeight` of the interval), the K − 1 interior
 * derivatives `[m, K − 1]` through `minDerivative + softplus(raw + c)` with c chosen so that raw = 0
 * gives derivative 1. All-zero parameters are therefore exactly the identity map.
 *
 * The bin lookup runs on the host (a piecewise-constant index, no gradient); everything else is tfjs
 * ops, so the function is differentiable by tfjs autodiff in the input and in all parameters.
 */

export interface SplineOptions {
  /** Half-width B of the interval where the spline acts; identity outside. */
  readonly bound: number;
  readonly minBinWidth?: number;
  readonly minBinHeight?: number;
  readonly minDerivative?: number;
}

export const DEFAULT_MIN_BIN_WIDTH = 1e-3;
export const DEFAULT_MIN_BIN_HEIGHT = 1e-3;
export const DEFAULT_MIN_DERIVATIVE = 1e-3;

/** Number of unconstrained parameters per transformed element: K widths, K heights, K − 1 derivatives. */
export function splineParamCount(bins: number): number {
  return 3 * bins - 1;
}

/**
 * Per-bin quantities `[m, K]`: left knot x0, width w, left knot y0, height h, derivatives d0 (left)
 * and d1 (right), packed as one `[m, 6, K]` tensor so a bin is selected with one multiply-and-sum.
 */
function binTable(raw: tf.Tensor2D, bins: number, o: Required<SplineOptions>): tf.Tensor3D {
  const m = raw.shape[0];
  const [rawW, rawH, rawD] = tf.split(raw, [bins, bins, bins - 1], 1) as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
  const sizes = (r: tf.Tensor2D, minSize: number) => {
    const frac = tf.add(minSize, tf.mul(1 - minSize * bins, tf.softmax(r, -1)));
    // Left edges −B + 2B·(exclusive cumulative sum); sizes 2B·frac.
    return [tf.sub(tf.mul(2 * o.bound, tf.cumsum(frac, 1, true)), o.bound), tf.mul(2 * o.bound, frac)];
  };
  const [x0, w] = sizes(rawW, o.minBinWidth);
  const [y0, h] = sizes(rawH, o.minBinHeight);
  const c = Math.log(Math.expm1(1 - o.minDerivative));
  const inner = tf.add(o.minDerivative, tf.softplus(tf.add(rawD, c)));
  const one = tf.ones([m, 1]);
  const d0 = tf.concat([one, inner], 1);
  const d1 = tf.concat([inner, one], 1);
  return tf.reshape(tf.concat([x0, w, y0, h, d0, d1] as tf.Tensor2D[], 1), [m, 6, bins]) as tf.Tensor3D;
}

/**
 * One-hot `[m, 1, K]` of the bin of each value of v among the left edges `[m, K]`. The search runs
 * on the host: the bin index is piecewise constant, so it carries no gradient, and a host-made
 * one-hot keeps comparison ops (some without tfjs gradients) off the autodiff path.
 */
function binMask(v: tf.Tensor1D, table: tf.Tensor3D, offset: 0 | 2, bins: number): tf.Tensor3D {
  const m = v.shape[0];
  const vs = v.dataSync();
  const edges = tf.tidy(() => tf.slice(table, [0, offset, 0], [m, 1, bins])).dataSync();
  const mask = new Float32Array(m * bins);
  for (let i = 0; i < m; i++) {
    const x = vs[i] as number;
    let k = 0;
    while (k < bins - 1 && x >= (edges[i * bins + k + 1] as number)) k++;
    mask[i * bins + k] = 1;
  }
  return tf.tensor3d(mask, [m, 1, bins]);
}

function resolve(options: SplineOptions): Required<SplineOptions> {
  return {
    bound: options.bound,
    minBinWidth: options.minBinWidth ?? DEFAULT_MIN_BIN_WIDTH,
    minBinHeight: options.minBinHeight ?? DEFAULT_MIN_BIN_HEIGHT,
    minDerivative: options.minDerivative ?? DEFAULT_MIN_DERIVATIVE,
  };
}

/**
 * Apply the spline (or its inverse) elementwise: `x` `[m]`, `raw` `[m, 3K − 1]` (widths, heights,
 * interior derivatives). Returns `y` `[m]` and log |dy/dx| `[m]` (of the direction applied).
 *
 * On wasm and cpu this is one fused kernel of `@gcvi/kernels` (`GcviRqSpline`: forward or inverse
 * value and log-det in one pass, analytic gradient in one more) instead of the ≈ 450 kernels of the
 * op composition `rqSplinePlain`; elsewhere it is `rqSplinePlain`. Both compute the same function.
 */
export function rqSpline(
  x: tf.Tensor1D,
  raw: tf.Tensor2D,
  bins: number,
  options: SplineOptions,
  inverse = false,
): { y: tf.Tensor1D; logDet: tf.Tensor1D } {
  if (!hasRqSpline()) return rqSplinePlain(x, raw, bins, options, inverse);
  const o = resolve(options);
  return rqSplineFused(x, raw, { bins, ...o, inverse });
}

/**
 * The spline as a composition of tfjs ops (differentiable by tfjs autodiff on every backend); the
 * reference the fused kernel is tested against.
 */
export function rqSplinePlain(
  x: tf.Tensor1D,
  raw: tf.Tensor2D,
  bins: number,
  options: SplineOptions,
  inverse = false,
): { y: tf.Tensor1D; logDet: tf.Tensor1D } {
  const o = resolve(options);
  return tf.tidy(() => {
    const B = o.bound;
    const m = x.shape[0];
    const inside = tf.greaterEqual(B, tf.abs(x));
    const xc = tf.clipByValue(x, -B, B) as tf.Tensor1D;
    const table = binTable(raw, bins, o);
    const mask = binMask(xc, table, inverse ? 2 : 0, bins);
    const picked = tf.sum(tf.mul(table, mask), 2) as tf.Tensor2D; // [m, 6]
    const [x0, w, y0, h, d0, d1] = tf.split(picked, 6, 1).map((t) => tf.reshape(t, [m])) as tf.Tensor1D[] as [
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    const s = tf.div(h, w);
    const dsum = tf.sub(tf.add(d0, d1), tf.mul(2, s));
    let xi: tf.Tensor1D;
    let out: tf.Tensor1D;
    let t: tf.Tensor;
    let den: tf.Tensor;
    if (!inverse) {
      xi = tf.div(tf.sub(xc, x0), w) as tf.Tensor1D;
      t = tf.mul(xi, tf.sub(1, xi));
      den = tf.add(s, tf.mul(dsum, t));
      const num = tf.mul(h, tf.add(tf.mul(s, tf.square(xi)), tf.mul(d0, t)));
      out = tf.add(y0, tf.div(num, den)) as tf.Tensor1D;
    } else {
      const dy = tf.sub(xc, y0);
      const a = tf.add(tf.mul(h, tf.sub(s, d0)), tf.mul(dy, dsum));
      const b = tf.sub(tf.mul(h, d0), tf.mul(dy, dsum));
      const c = tf.neg(tf.mul(s, dy));
      const disc = tf.relu(tf.sub(tf.square(b), tf.mul(4, tf.mul(a, c))));
      // The stable root 2c / (−b − √disc) of a ξ² + b ξ + c = 0 (Durkan et al. eq. 29).
      xi = tf.div(tf.mul(2, c), tf.sub(tf.neg(b), tf.sqrt(disc))) as tf.Tensor1D;
      out = tf.add(tf.mul(xi, w), x0) as tf.Tensor1D;
      t = tf.mul(xi, tf.sub(1, xi));
      den = tf.add(s, tf.mul(dsum, t));
    }
    // dy/dx = s² (d1 ξ² + 2 s ξ(1 − ξ) + d0 (1 − ξ)²) / den².
    const dnum = tf.mul(
      tf.square(s),
      tf.add(
        tf.add(tf.mul(d1, tf.square(xi)), tf.mul(2, tf.mul(s, t))),
        tf.mul(d0, tf.square(tf.sub(1, xi))),
      ),
    );
    const ld = tf.sub(tf.log(dnum), tf.mul(2, tf.log(den)));
    const logDetInside = inverse ? tf.neg(ld) : ld;
    return {
      y: tf.where(inside, out, x) as tf.Tensor1D,
      logDet: tf.where(inside, logDetInside, tf.zerosLike(x)) as tf.Tensor1D,
    };
  });
}
