import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { type NsfOptions, type NsfSpec, resolveOptions } from './options.js';
import { rqSpline, splineParamCount } from './spline.js';

/**
 * The flow's trainable parameters by name: conditioners `c{layer}.w{j}`, `c{layer}.b{j}`, and with
 * `lu` the linear maps `lu{layer}.lower`, `.upper`, `.diag`, `.bias`. Tensors or tf.Variables.
 */
export type NsfParams = Record<string, tf.Tensor>;

/**
 * A conditional rational-quadratic neural spline flow q(θ | context): pure functions of its
 * parameters, so a trainer can differentiate `logProb` with tfjs autodiff.
 */
export interface Nsf {
  readonly spec: NsfSpec;
  /** Shapes of the parameters by name. */
  readonly paramShapes: Readonly<Record<string, readonly number[]>>;
  /** Fresh parameters (plain tensors; wrap in tf.variable to train). */
  init(rng: Rng): NsfParams;
  /**
   * log q(θ | context) `[n]` for θ `[n, dim]` and context `[n, contextDim]` or `[1, contextDim]`
   * (broadcast; omit it when contextDim is 0). With a box, −Infinity outside the box.
   */
  logProb(params: NsfParams, theta: tf.Tensor, context?: tf.Tensor): tf.Tensor1D;
  /** n draws `[n, dim]` from q(· | context); context `[n, contextDim]` or `[1, contextDim]`. */
  sample(params: NsfParams, n: number, context: tf.Tensor | undefined, rng: Rng): tf.Tensor2D;
  /** Draws and their log-densities in one pass (no root solving twice). */
  sampleAndLogProb(
    params: NsfParams,
    n: number,
    context: tf.Tensor | undefined,
    rng: Rng,
  ): { theta: tf.Tensor2D; logProb: tf.Tensor1D };
  /**
   * The bijection θ → z (towards the base N(0, I)) and log |det ∂z/∂θ| `[n]`. θ must lie inside
   * the box when one is set.
   */
  forward(params: NsfParams, theta: tf.Tensor, context?: tf.Tensor): { z: tf.Tensor2D; logDet: tf.Tensor1D };
  /** The inverse z → θ and log |det ∂θ/∂z| `[n]`. */
  inverse(params: NsfParams, z: tf.Tensor, context?: tf.Tensor): { theta: tf.Tensor2D; logDet: tf.Tensor1D };
}

const LOG_2PI = Math.log(2 * Math.PI);
/** Floor of the LU layers' diagonal: U_ii = softplus(raw) + LU_EPS (nflows' choice). */
const LU_EPS = 1e-3;
/** The raw diagonal at which U_ii = 1. */
const LU_IDENTITY_DIAG = Math.log(Math.expm1(1 - LU_EPS));

interface LayerShape {
  readonly dA: number;
  readonly dB: number;
  readonly inSize: number;
  readonly sizes: readonly number[]; // widths of input, hidden…, output
}

function layerShapes(spec: NsfSpec): LayerShape {
  const dA = Math.floor(spec.dim / 2);
  const dB = spec.dim - dA;
  const inSize = dA + spec.contextDim;
  const out = dB * splineParamCount(spec.bins);
  const sizes = inSize === 0 ? [0, out] : [inSize, ...Array(spec.depth).fill(spec.hidden), out];
  return { dA, dB, inSize, sizes };
}

/**
 * A rational-quadratic neural spline coupling flow (Durkan et al. 2019; sbi's default "nsf").
 *
 * Each of `layers` coupling layers keeps the first ⌊dim/2⌋ coordinates and moves the others through
 * monotone rational-quadratic splines on [−bound, bound] (identity outside) whose bin widths, heights
 * and knot derivatives come from a conditioner MLP fed with the kept coordinates and the context.
 * Fixed permutations between layers let every coordinate be moved, and (with `lu`, the default,
 * as in sbi) a trainable linear map W = L·U after each coupling layer mixes the coordinates. For dim = 1 nothing can be kept:
 * each layer's spline for the one coordinate is a function of the context alone (sbi's choice for
 * one-dimensional NSF), and with no context it is a learned unconditional spline.
 *
 * With `box` the flow models logit((θ − low) / (high − low)) instead of θ, so no mass lies outside
 * the box. Base distribution: N(0, I).
 */
export function nsf(options: NsfOptions): Nsf {
  const spec = resolveOptions(options);
  const shape = layerShapes(spec);
  const P = splineParamCount(spec.bins);
  const nLin = shape.sizes.length - 1;
  const paramShapes: Record<string, number[]> = {};
  for (let l = 0; l < spec.layers; l++) {
    for (let j = 0; j < nLin; j++) {
      const fanIn = shape.sizes[j] as number;
      const fanOut = shape.sizes[j + 1] as number;
      if (fanIn > 0) paramShapes[`c${l}.w${j}`] = [fanIn, fanOut];
      paramShapes[`c${l}.b${j}`] = [fanOut];
    }
    if (spec.lu) {
      const d = spec.dim;
      paramShapes[`lu${l}.lower`] = [d, d];
      paramShapes[`lu${l}.upper`] = [d, d];
      paramShapes[`lu${l}.diag`] = [d];
      paramShapes[`lu${l}.bias`] = [d];
    }
  }
  // Strictly lower / strictly upper masks of the LU layers' [d, d] parameters (entries outside
  // them are unused), and the unconstrained diagonal that starts U's diagonal at 1.
  const strictLower = new Float32Array(spec.dim * spec.dim);
  const strictUpper = new Float32Array(spec.dim * spec.dim);
  for (let i = 0; i < spec.dim; i++) {
    for (let j = 0; j < spec.dim; j++) {
      if (j < i) strictLower[i * spec.dim + j] = 1;
      if (j > i) strictUpper[i * spec.dim + j] = 1;
    }
  }
  const invPerms = spec.permutations.map((p) => {
    const inv = new Array<number>(p.length);
    p.forEach((v, i) => {
      inv[v] = i;
    });
    return inv;
  });
  const isIdentity = spec.permutations.map((p) => p.every((v, i) => v === i));
  const box = spec.box;
  const boxLow = box ? Float32Array.from(box.low) : null;
  const boxWidth = box ? Float32Array.from(box.high.map((h, i) => h - (box.low[i] as number))) : null;
  const std = spec.standardize;
  const logStdSum = std ? std.std.reduce((a, s) => a + Math.log(s), 0) : 0;

  function checkParams(params: NsfParams): void {
    if (params === null || typeof params !== 'object') throw new ConfigError('params', 'must be an object');
    for (const [name, s] of Object.entries(paramShapes)) {
      const t = params[name];
      if (!t) throw new ConfigError(`params.${name}`, `missing (expected shape [${s.join(', ')}])`);
      if (t.shape.length !== s.length || t.shape.some((v, i) => v !== s[i])) {
        throw new ShapeError(`params.${name}`, `[${s.join(', ')}]`, t.shape);
      }
    }
  }

  function checkTheta(name: string, t: tf.Tensor): number {
    if (!(t instanceof tf.Tensor)) throw new ConfigError(name, 'must be a tf.Tensor');
    if (t.rank !== 2 || t.shape[1] !== spec.dim) throw new ShapeError(name, `[n, ${spec.dim}]`, t.shape);
    return t.shape[0] as number;
  }

  function contextFor(context: tf.Tensor | undefined, n: number): tf.Tensor2D | null {
    if (spec.contextDim === 0) {
      if (context !== undefined && context.size !== 0) {
        throw new ShapeError('context', '[n, 0] or undefined (contextDim is 0)', context.shape);
      }
      return null;
    }
    if (!(context instanceof tf.Tensor)) {
      throw new ConfigError(
        'context',
        `must be a tf.Tensor [n, ${spec.contextDim}] (contextDim is ${spec.contextDim})`,
      );
    }
    const c = context.rank === 1 ? tf.reshape(context, [1, -1]) : context;
    if (c.rank !== 2 || c.shape[1] !== spec.contextDim || (c.shape[0] !== n && c.shape[0] !== 1)) {
      throw new ShapeError('context', `[${n}, ${spec.contextDim}] or [1, ${spec.contextDim}]`, context.shape);
    }
    return (c.shape[0] === n ? c : tf.add(tf.zeros([n, spec.contextDim]), c)) as tf.Tensor2D;
  }

  /** Conditioner of layer l: spline parameters `[n·dB, P]` from the kept part and the context. */
  function conditioner(
    params: NsfParams,
    l: number,
    kept: tf.Tensor2D | null,
    ctx: tf.Tensor2D | null,
    n: number,
  ) {
    const parts = [kept, ctx].filter((t): t is tf.Tensor2D => t !== null && t.shape[1] !== 0);
    let h: tf.Tensor2D;
    if (parts.length === 0) {
      h = tf.add(tf.zeros([n, shape.dB * P]), params[`c${l}.b0`] as tf.Tensor) as tf.Tensor2D;
    } else {
      h = (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor2D;
      for (let j = 0; j < nLin; j++) {
        h = tf.add(tf.matMul(h, params[`c${l}.w${j}`] as tf.Tensor2D), params[`c${l}.b${j}`] as tf.Tensor);
        if (j < nLin - 1) h = spec.activation === 'relu' ? tf.relu(h) : tf.tanh(h);
      }
    }
    return tf.reshape(h, [n * shape.dB, P]) as tf.Tensor2D;
  }

  function coupling(
    params: NsfParams,
    l: number,
    v: tf.Tensor2D,
    ctx: tf.Tensor2D | null,
    n: number,
    inverse: boolean,
  ): { v: tf.Tensor2D; logDet: tf.Tensor1D } {
    const kept = shape.dA > 0 ? tf.slice(v, [0, 0], [n, shape.dA]) : null;
    const moved = tf.slice(v, [0, shape.dA], [n, shape.dB]);
    const raw = conditioner(params, l, kept as tf.Tensor2D | null, ctx, n);
    const { y, logDet } = rqSpline(
      tf.reshape(moved, [n * shape.dB]) as tf.Tensor1D,
      raw,
      spec.bins,
      { bound: spec.bound },
      inverse,
    );
    const movedOut = tf.reshape(y, [n, shape.dB]);
    const out = (kept ? tf.concat([kept, movedOut], 1) : movedOut) as tf.Tensor2D;
    return { v: out, logDet: tf.sum(tf.reshape(logDet, [n, shape.dB]), 1) as tf.Tensor1D };
  }

  /** Box and standardization: θ → u (unconstrained), with log |du/dθ|. */
  function toUnconstrained(theta: tf.Tensor2D): { u: tf.Tensor2D; logDet: tf.Tensor1D } {
    let u: tf.Tensor2D = theta;
    let logDet: tf.Tensor1D = tf.zeros([theta.shape[0]]);
    if (boxLow && boxWidth) {
      const p = tf.div(tf.sub(theta, boxLow), boxWidth);
      const lp = tf.log(p);
      const l1p = tf.log(tf.sub(1, p));
      u = tf.sub(lp, l1p) as tf.Tensor2D;
      // du/dθ = 1 / (w p (1 − p)).
      logDet = tf.neg(tf.sum(tf.add(tf.add(lp, l1p), tf.log(boxWidth)), 1)) as tf.Tensor1D;
    }
    if (std) {
      u = tf.div(tf.sub(u, Float32Array.from(std.mean)), Float32Array.from(std.std)) as tf.Tensor2D;
      logDet = tf.sub(logDet, logStdSum) as tf.Tensor1D;
    }
    return { u, logDet };
  }

  function fromUnconstrained(u: tf.Tensor2D): { theta: tf.Tensor2D; logDet: tf.Tensor1D } {
    let v = u;
    let logDet: tf.Tensor1D = tf.zeros([u.shape[0]]);
    if (std) {
      v = tf.add(tf.mul(v, Float32Array.from(std.std)), Float32Array.from(std.mean)) as tf.Tensor2D;
      logDet = tf.add(logDet, logStdSum) as tf.Tensor1D;
    }
    if (boxLow && boxWidth) {
      const p = tf.sigmoid(v);
      // log dθ/du = log w + log σ(u) + log σ(−u), computed stably.
      const ld = tf.add(tf.neg(tf.add(tf.softplus(tf.neg(v)), tf.softplus(v))), tf.log(boxWidth));
      logDet = tf.add(logDet, tf.sum(ld, 1)) as tf.Tensor1D;
      v = tf.add(tf.mul(p, boxWidth), boxLow) as tf.Tensor2D;
    }
    return { theta: v, logDet };
  }

  /**
   * Reorder columns: out[:, i] = v[:, perm[i]]. Column slices and one concat (exact, and
   * differentiable on every backend; tf.gather's gradient needs UnsortedSegmentSum, absent on wasm).
   */
  function permute(v: tf.Tensor2D, perm: readonly number[]): tf.Tensor2D {
    const n = v.shape[0];
    return tf.concat(
      perm.map((j) => tf.slice(v, [0, j], [n, 1])),
      1,
    ) as tf.Tensor2D;
  }

  /**
   * A scalar repeated for n rows. Through an add, not tf.broadcastTo: tfjs's BroadcastTo gradient
   * costs ~2 kernels per row (measured: 422 kernels at n = 200), an add's gradient one sum.
   */
  function rowsOf(scalar: tf.Tensor, n: number): tf.Tensor1D {
    return tf.add(tf.zeros([n]), scalar) as tf.Tensor1D;
  }

  /** Layer l's L (unit lower), U (upper, diagonal softplus(raw) + 1e-3) and log |det W| = Σ log U_ii. */
  function luFactors(params: NsfParams, l: number) {
    const d = spec.dim;
    const L = tf.add(
      tf.mul(params[`lu${l}.lower`] as tf.Tensor2D, tf.tensor2d(strictLower, [d, d])),
      tf.eye(d),
    );
    const diag = tf.add(tf.softplus(params[`lu${l}.diag`] as tf.Tensor1D), LU_EPS) as tf.Tensor1D;
    const U = tf.add(
      tf.mul(params[`lu${l}.upper`] as tf.Tensor2D, tf.tensor2d(strictUpper, [d, d])),
      tf.mul(tf.eye(d), diag),
    ) as tf.Tensor2D;
    return { L: L as tf.Tensor2D, U, diag, logDet: tf.sum(tf.log(diag)) };
  }

  /** z = W v + b for rows v `[n, d]`, W = L·U; log |det W| per row. */
  function luForward(params: NsfParams, l: number, v: tf.Tensor2D, n: number) {
    const { L, U, logDet } = luFactors(params, l);
    const z = tf.add(tf.matMul(v, tf.matMul(L, U), false, true), params[`lu${l}.bias`] as tf.Tensor1D);
    return { v: z as tf.Tensor2D, logDet: rowsOf(logDet, n) };
  }

  /** v = W⁻¹ (z − b): forward substitution with L, then back substitution with U (differentiable). */
  function luInverse(params: NsfParams, l: number, z: tf.Tensor2D, n: number) {
    const d = spec.dim;
    const { L, U, diag, logDet } = luFactors(params, l);
    const r = tf.sub(z, params[`lu${l}.bias`] as tf.Tensor1D) as tf.Tensor2D;
    const col = (t: tf.Tensor2D, i: number) => tf.slice(t, [0, i], [n, 1]) as tf.Tensor2D;
    const y: tf.Tensor2D[] = [];
    for (let i = 0; i < d; i++) {
      let yi = col(r, i);
      if (i > 0) {
        const li = tf.slice(L, [i, 0], [1, i]) as tf.Tensor2D; // L[i, :i]
        yi = tf.sub(yi, tf.matMul(tf.concat(y, 1) as tf.Tensor2D, li, false, true)) as tf.Tensor2D;
      }
      y.push(yi);
    }
    const x: tf.Tensor2D[] = new Array(d);
    for (let i = d - 1; i >= 0; i--) {
      let xi = y[i] as tf.Tensor2D;
      if (i < d - 1) {
        const ui = tf.slice(U, [i, i + 1], [1, d - 1 - i]) as tf.Tensor2D; // U[i, i+1:]
        xi = tf.sub(
          xi,
          tf.matMul(tf.concat(x.slice(i + 1), 1) as tf.Tensor2D, ui, false, true),
        ) as tf.Tensor2D;
      }
      x[i] = tf.div(xi, tf.slice(diag, [i], [1])) as tf.Tensor2D;
    }
    return { v: tf.concat(x, 1) as tf.Tensor2D, logDet: rowsOf(tf.neg(logDet), n) };
  }

  function flowForward(params: NsfParams, u: tf.Tensor2D, ctx: tf.Tensor2D | null, n: number) {
    let v = u;
    let logDet: tf.Tensor1D = tf.zeros([n]);
    for (let l = 0; l < spec.layers; l++) {
      if (!isIdentity[l]) v = permute(v, spec.permutations[l] as number[]);
      const r = coupling(params, l, v, ctx, n, false);
      v = r.v;
      logDet = tf.add(logDet, r.logDet) as tf.Tensor1D;
      if (spec.lu) {
        const m = luForward(params, l, v, n);
        v = m.v;
        logDet = tf.add(logDet, m.logDet) as tf.Tensor1D;
      }
    }
    return { z: v, logDet };
  }

  function flowInverse(params: NsfParams, z: tf.Tensor2D, ctx: tf.Tensor2D | null, n: number) {
    let v = z;
    let logDet: tf.Tensor1D = tf.zeros([n]);
    for (let l = spec.layers - 1; l >= 0; l--) {
      if (spec.lu) {
        const m = luInverse(params, l, v, n);
        v = m.v;
        logDet = tf.add(logDet, m.logDet) as tf.Tensor1D;
      }
      const r = coupling(params, l, v, ctx, n, true);
      v = r.v;
      logDet = tf.add(logDet, r.logDet) as tf.Tensor1D;
      if (!isIdentity[l]) v = permute(v, invPerms[l] as number[]);
    }
    return { u: v, logDet };
  }

  function baseLogProb(z: tf.Tensor2D): tf.Tensor1D {
    return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), 1)), 0.5 * spec.dim * LOG_2PI) as tf.Tensor1D;
  }

  function forward(params: NsfParams, theta: tf.Tensor, context?: tf.Tensor) {
    checkParams(params);
    const n = checkTheta('theta', theta);
    return tf.tidy(() => {
      const ctx = contextFor(context, n);
      const a = toUnconstrained(theta as tf.Tensor2D);
      const b = flowForward(params, a.u, ctx, n);
      return { z: b.z, logDet: tf.add(a.logDet, b.logDet) as tf.Tensor1D };
    });
  }

  function inverse(params: NsfParams, z: tf.Tensor, context?: tf.Tensor) {
    checkParams(params);
    const n = checkTheta('z', z);
    return tf.tidy(() => {
      const ctx = contextFor(context, n);
      const a = flowInverse(params, z as tf.Tensor2D, ctx, n);
      const b = fromUnconstrained(a.u);
      return { theta: b.theta, logDet: tf.add(a.logDet, b.logDet) as tf.Tensor1D };
    });
  }

  function logProb(params: NsfParams, theta: tf.Tensor, context?: tf.Tensor): tf.Tensor1D {
    checkParams(params);
    const n = checkTheta('theta', theta);
    return tf.tidy(() => {
      const ctx = contextFor(context, n);
      let th = theta as tf.Tensor2D;
      let inBox: tf.Tensor1D | null = null;
      if (box && boxLow && boxWidth) {
        // Strictly outside the box: −∞. On its edge (or within float32 rounding of it) θ is moved
        // 1e-6 of the width inside, where the logit is finite.
        const low = tf.tensor1d(box.low as number[]);
        const high = tf.tensor1d(box.high as number[]);
        const ok = tf.mul(
          tf.cast(tf.greaterEqual(th, low), 'float32'),
          tf.cast(tf.greaterEqual(high, th), 'float32'),
        );
        inBox = tf.greaterEqual(tf.min(ok, 1), 1) as tf.Tensor1D;
        const eps = tf.mul(boxWidth, 1e-6);
        th = tf.minimum(tf.maximum(th, tf.add(low, eps)), tf.sub(high, eps)) as tf.Tensor2D;
      }
      const a = toUnconstrained(th);
      const b = flowForward(params, a.u, ctx, n);
      const lp = tf.add(baseLogProb(b.z), tf.add(a.logDet, b.logDet)) as tf.Tensor1D;
      return inBox ? (tf.where(inBox, lp, tf.fill([n], Number.NEGATIVE_INFINITY)) as tf.Tensor1D) : lp;
    });
  }

  function sampleAndLogProb(params: NsfParams, n: number, context: tf.Tensor | undefined, rng: Rng) {
    checkParams(params);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError('n', `must be an integer ≥ 1, got ${n}`);
    if (!rng || typeof rng.normalTensor !== 'function') throw new ConfigError('rng', 'must be an Rng');
    return tf.tidy(() => {
      const ctx = contextFor(context, n);
      const z = rng.normalTensor([n, spec.dim]) as tf.Tensor2D;
      const a = flowInverse(params, z, ctx, n);
      const b = fromUnconstrained(a.u);
      let theta = b.theta;
      if (box) {
        // sigmoid rounds to 0 or 1 in float32 for |u| ≳ 17: keep draws strictly inside the box.
        const eps = tf.mul(boxWidth as Float32Array, 1e-6);
        theta = tf.minimum(
          tf.maximum(theta, tf.add(box.low as number[], eps)),
          tf.sub(box.high as number[], eps),
        ) as tf.Tensor2D;
      }
      const lp = tf.sub(baseLogProb(z), tf.add(a.logDet, b.logDet)) as tf.Tensor1D;
      return { theta, logProb: lp };
    });
  }

  function sample(params: NsfParams, n: number, context: tf.Tensor | undefined, rng: Rng): tf.Tensor2D {
    const r = sampleAndLogProb(params, n, context, rng);
    r.logProb.dispose();
    return r.theta;
  }

  function init(rng: Rng): NsfParams {
    const out: NsfParams = {};
    for (let l = 0; l < spec.layers; l++) {
      const r = rng.split(`c${l}`);
      for (let j = 0; j < nLin; j++) {
        const fanIn = shape.sizes[j] as number;
        const fanOut = shape.sizes[j + 1] as number;
        const last = j === nLin - 1;
        if (fanIn > 0) {
          // PyTorch's nn.Linear default, Uniform(±1/√fanIn); the last layer scaled by initScale.
          const b = (last ? spec.initScale : 1) / Math.sqrt(fanIn);
          out[`c${l}.w${j}`] = r.split(`w${j}`).uniformTensor([fanIn, fanOut], -b, b);
        }
        out[`c${l}.b${j}`] = tf.zeros([fanOut]);
      }
      if (spec.lu) {
        // The identity (nflows' LULinear(identity_init=True)).
        const d = spec.dim;
        out[`lu${l}.lower`] = tf.zeros([d, d]);
        out[`lu${l}.upper`] = tf.zeros([d, d]);
        out[`lu${l}.diag`] = tf.fill([d], LU_IDENTITY_DIAG);
        out[`lu${l}.bias`] = tf.zeros([d]);
      }
    }
    return out;
  }

  return { spec, paramShapes, init, logProb, sample, sampleAndLogProb, forward, inverse };
}
