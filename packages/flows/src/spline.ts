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
 * Bin lookup uses only `greaterEqual` and `cast` (whose tfjs gradients are zero), so the function is
 * differentiable by tfjs autodiff in the input and in all parameters.
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

interface Knots {
  /** Knot x positions `[m, K + 1]`, first −B, last B. */
  readonly cumW: tf.Tensor2D;
  /** Knot y positions `[m, K + 1]`. */
  readonly cumH: tf.Tensor2D;
  /** Derivatives at the knots `[m, K + 1]` (1 at both ends). */
  readonly derivs: tf.Tensor2D;
}

function knots(raw: tf.Tensor2D, bins: number, o: Required<SplineOptions>): Knots {
  const m = raw.shape[0];
  const rawW = tf.slice(raw, [0, 0], [m, bins]);
  const rawH = tf.slice(raw, [0, bins], [m, bins]);
  const rawD = tf.slice(raw, [0, 2 * bins], [m, bins - 1]);
  const edges = (r: tf.Tensor2D, minSize: number): tf.Tensor2D => {
    const frac = tf.add(minSize, tf.mul(1 - minSize * bins, tf.softmax(r, -1)));
    // Cumulative sums scaled to [−B, B]; the end knots are pinned exactly at ±B.
    const cum = tf.cumsum(frac, 1);
    const inner = tf.slice(cum, [0, 0], [m, bins - 1]);
    const innerScaled = tf.sub(tf.mul(2 * o.bound, inner), o.bound);
    return tf.concat([tf.fill([m, 1], -o.bound), innerScaled, tf.fill([m, 1], o.bound)], 1) as tf.Tensor2D;
  };
  const c = Math.log(Math.expm1(1 - o.minDerivative));
  const inner = tf.add(o.minDerivative, tf.softplus(tf.add(rawD, c)));
  const one = tf.ones([m, 1]);
  return {
    cumW: edges(rawW, o.minBinWidth),
    cumH: edges(rawH, o.minBinHeight),
    derivs: tf.concat([one, inner, one], 1) as tf.Tensor2D,
  };
}

/** One-hot `[m, K]` of the bin holding each value of `v` `[m]` among knots `[m, K + 1]`. */
function binMask(v: tf.Tensor1D, edges: tf.Tensor2D, bins: number): tf.Tensor2D {
  const m = edges.shape[0];
  // Count interior knots ≤ v: that is the bin index in 0..K−1 (values clamped into [−B, B] first).
  const interior = tf.slice(edges, [0, 1], [m, bins - 1]);
  const idx = tf.sum(tf.cast(tf.greaterEqual(tf.expandDims(v, 1), interior), 'float32'), 1);
  const ks = tf.range(0, bins, 1, 'float32');
  // mask[i, k] = 1 when idx[i] == k, built from greaterEqual only (differentiable with zero gradient).
  const d = tf.sub(tf.expandDims(idx, 1), tf.expandDims(ks, 0));
  return tf.mul(
    tf.cast(tf.greaterEqual(d, 0), 'float32'),
    tf.cast(tf.greaterEqual(tf.neg(d), 0), 'float32'),
  ) as tf.Tensor2D;
}

function pick(mask: tf.Tensor2D, a: tf.Tensor2D, offset: number, bins: number): tf.Tensor1D {
  const m = a.shape[0];
  return tf.sum(tf.mul(mask, tf.slice(a, [0, offset], [m, bins])), 1) as tf.Tensor1D;
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
 */
export function rqSpline(
  x: tf.Tensor1D,
  raw: tf.Tensor2D,
  bins: number,
  options: SplineOptions,
  inverse = false,
): { y: tf.Tensor1D; logDet: tf.Tensor1D } {
  const o = resolve(options);
  return tf.tidy(() => {
    const B = o.bound;
    const inside = tf.greaterEqual(B, tf.abs(x));
    const xc = tf.clipByValue(x, -B, B) as tf.Tensor1D;
    const { cumW, cumH, derivs } = knots(raw, bins, o);
    const mask = binMask(xc, inverse ? cumH : cumW, bins);
    const x0 = pick(mask, cumW, 0, bins);
    const x1 = pick(mask, cumW, 1, bins);
    const y0 = pick(mask, cumH, 0, bins);
    const y1 = pick(mask, cumH, 1, bins);
    const d0 = pick(mask, derivs, 0, bins);
    const d1 = pick(mask, derivs, 1, bins);
    const w = tf.sub(x1, x0);
    const h = tf.sub(y1, y0);
    const s = tf.div(h, w);
    const dsum = tf.sub(tf.add(d0, d1), tf.mul(2, s));
    let xi: tf.Tensor1D;
    let out: tf.Tensor1D;
    if (!inverse) {
      xi = tf.div(tf.sub(xc, x0), w) as tf.Tensor1D;
      const t = tf.mul(xi, tf.sub(1, xi));
      const num = tf.mul(h, tf.add(tf.mul(s, tf.square(xi)), tf.mul(d0, t)));
      const den = tf.add(s, tf.mul(dsum, t));
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
    }
    const t = tf.mul(xi, tf.sub(1, xi));
    const den = tf.add(s, tf.mul(dsum, t));
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
