import { type DenseActivation, denseLayer } from '@gcvi/kernels';
import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { attention } from './attention.js';
import { torchDefaultUniform, xavierUniform } from './init.js';
import type { Encoder, EncoderSpec, NamedTensors, ParamSpec } from './types.js';

/*
 * Set Transformer blocks (Lee et al. 2019) as in DESIGN §2 E2: no layer norm.
 *   MAB(X, Y) = H + relu(H W_o + b_o),  H = Q + Attention(Q, Y W_k + b_k, Y W_v + b_v),  Q = X W_q + b_q
 *   SAB(X) = MAB(X, X);  ISAB(X) = MAB(X, MAB(I, X));  PMA(X) = MAB(S, X)
 * Weights are stored `[in, out]` (x W), biases `[out]`; PyTorch-default init (Uniform(±1/√fanIn));
 * inducing points I and seeds S use Xavier-uniform as in the reference implementation. Each block
 * takes a `prefix` for its parameter names so blocks compose into one flat parameter record.
 */

function checkSize(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(field, `must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function checkHeads(heads: unknown, width: number): number {
  const h = checkSize('heads', heads);
  if (width % h !== 0) throw new ConfigError('heads', `must divide the width ${width}, got ${h}`);
  return h;
}

function checkSet(arg: string, x: tf.Tensor, dim: number): void {
  if (x.rank !== 3 || x.shape[2] !== dim) throw new ShapeError(arg, `[batch, setSize, ${dim}]`, x.shape);
}

/**
 * act(x [B, n, in] · w [in, out] + b) through `@gcvi/kernels`' dense layer: one kernel (SIMD GEMM,
 * bias and activation in the same pass) on wasm and cpu, the plain matMul + add (+ relu) elsewhere.
 */
function linear3(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
  activation: DenseActivation = 'linear',
): tf.Tensor {
  const [bs, n, din] = x.shape as [number, number, number];
  const y = denseLayer(tf.reshape(x, [bs * n, din]), w, b, { activation });
  return tf.reshape(y, [bs, n, w.shape[1]!]);
}

function linearSpecs(prefix: string, din: number, dout: number): ParamSpec[] {
  return [
    { name: `${prefix}w`, shape: [din, dout] },
    { name: `${prefix}b`, shape: [dout] },
  ];
}

function initLinear(rng: Rng, out: NamedTensors, prefix: string, din: number, dout: number): void {
  out[`${prefix}w`] = torchDefaultUniform(rng.split(`${prefix}w`), [din, dout], din);
  out[`${prefix}b`] = torchDefaultUniform(rng.split(`${prefix}b`), [dout], din);
}

export interface MabOptions {
  readonly dimQ: number;
  readonly dimK: number;
  readonly dimV: number;
  readonly heads: number;
  /** Prefix of every parameter name (default ''). */
  readonly prefix?: string;
  /** Use the fused attention kernel of `@gcvi/kernels` (default false; first-order gradients only). */
  readonly fused?: boolean;
}

export interface MabSpec extends EncoderSpec {
  readonly kind: 'mab';
  readonly dimQ: number;
  readonly dimK: number;
  readonly dimV: number;
  readonly heads: number;
  readonly prefix: string;
  readonly fused: boolean;
}

/** A block with two inputs; as an `Encoder`, `apply(p, x)` = `applyPair(p, x, x)`. */
export interface MabBlock extends Encoder {
  readonly spec: MabSpec;
  /** MAB(X, Y): `x` `[B, nq, dimQ]`, `y` `[B, nk, dimK]` → `[B, nq, dimV]`. `x` may be `[1, nq, dimQ]`. */
  applyPair(params: NamedTensors, x: tf.Tensor, y: tf.Tensor): tf.Tensor;
}

/** Multi-head attention block MAB(X, Y) (residual on the projected query, then O + relu(Linear(O))). */
export function mab(options: MabOptions): MabBlock {
  const dimQ = checkSize('dimQ', options.dimQ);
  const dimK = checkSize('dimK', options.dimK);
  const dimV = checkSize('dimV', options.dimV);
  const heads = checkHeads(options.heads, dimV);
  const prefix = options.prefix ?? '';
  const fused = options.fused === true;
  const spec: MabSpec = { kind: 'mab', dimQ, dimK, dimV, heads, prefix, fused };
  const n = {
    qw: `${prefix}fc_q.w`,
    qb: `${prefix}fc_q.b`,
    kw: `${prefix}fc_k.w`,
    kb: `${prefix}fc_k.b`,
    vw: `${prefix}fc_v.w`,
    vb: `${prefix}fc_v.b`,
    ow: `${prefix}fc_o.w`,
    ob: `${prefix}fc_o.b`,
  };
  const paramSpecs = [
    ...linearSpecs(`${prefix}fc_q.`, dimQ, dimV),
    ...linearSpecs(`${prefix}fc_k.`, dimK, dimV),
    ...linearSpecs(`${prefix}fc_v.`, dimK, dimV),
    ...linearSpecs(`${prefix}fc_o.`, dimV, dimV),
  ];
  function applyPair(p: NamedTensors, x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    checkSet('x', x, dimQ);
    checkSet('y', y, dimK);
    const b = y.shape[0]!;
    if (x.shape[0] !== b && x.shape[0] !== 1) throw new ShapeError('x', `[${b} or 1, nq, ${dimQ}]`, x.shape);
    return tf.tidy(() => {
      let q = linear3(x, p[n.qw]!, p[n.qb]!);
      if (q.shape[0] !== b) q = tf.tile(q, [b, 1, 1]);
      const k = linear3(y, p[n.kw]!, p[n.kb]!);
      const v = linear3(y, p[n.vw]!, p[n.vb]!);
      const h = tf.add(q, attention(q, k, v, heads, undefined, { fused }));
      return tf.add(h, linear3(h, p[n.ow]!, p[n.ob]!, 'relu'));
    });
  }
  return {
    spec,
    paramSpecs,
    outputSize: dimV,
    init(rng: Rng): NamedTensors {
      const out: NamedTensors = {};
      initLinear(rng, out, `${prefix}fc_q.`, dimQ, dimV);
      initLinear(rng, out, `${prefix}fc_k.`, dimK, dimV);
      initLinear(rng, out, `${prefix}fc_v.`, dimK, dimV);
      initLinear(rng, out, `${prefix}fc_o.`, dimV, dimV);
      return out;
    },
    apply: (p, x) => applyPair(p, x, x),
    applyPair,
  };
}

export interface SabOptions {
  readonly dimIn: number;
  readonly dimOut: number;
  readonly heads: number;
  readonly prefix?: string;
  readonly fused?: boolean;
}

export interface SabSpec extends EncoderSpec {
  readonly kind: 'sab';
  readonly dimIn: number;
  readonly dimOut: number;
  readonly heads: number;
  readonly prefix: string;
  readonly fused: boolean;
}

/** Set attention block SAB(X) = MAB(X, X): `[B, n, dimIn]` → `[B, n, dimOut]`, permutation equivariant. */
export function sab(options: SabOptions): Encoder & { readonly spec: SabSpec } {
  const dimIn = checkSize('dimIn', options.dimIn);
  const dimOut = checkSize('dimOut', options.dimOut);
  const prefix = options.prefix ?? '';
  const inner = mab({
    dimQ: dimIn,
    dimK: dimIn,
    dimV: dimOut,
    heads: options.heads,
    prefix,
    fused: options.fused,
  });
  return {
    spec: { kind: 'sab', dimIn, dimOut, heads: inner.spec.heads, prefix, fused: inner.spec.fused },
    paramSpecs: inner.paramSpecs,
    outputSize: dimOut,
    init: (rng) => inner.init(rng),
    apply: (p, x) => inner.applyPair(p, x, x),
  };
}

export interface IsabOptions {
  readonly dimIn: number;
  readonly dimOut: number;
  readonly heads: number;
  /** Number of inducing points m. */
  readonly inducing: number;
  readonly prefix?: string;
}

export interface IsabSpec extends EncoderSpec {
  readonly kind: 'isab';
  readonly dimIn: number;
  readonly dimOut: number;
  readonly heads: number;
  readonly inducing: number;
  readonly prefix: string;
}

/**
 * Induced set attention block ISAB(X) = MAB(X, MAB(I, X)) with m learned inducing points
 * `I` `[m, dimOut]` (parameter `${prefix}I`): `[B, n, dimIn]` → `[B, n, dimOut]` in O(n·m).
 */
export function isab(options: IsabOptions): Encoder & { readonly spec: IsabSpec } {
  const dimIn = checkSize('dimIn', options.dimIn);
  const dimOut = checkSize('dimOut', options.dimOut);
  const m = checkSize('inducing', options.inducing);
  const prefix = options.prefix ?? '';
  const mab0 = mab({
    dimQ: dimOut,
    dimK: dimIn,
    dimV: dimOut,
    heads: options.heads,
    prefix: `${prefix}mab0.`,
  });
  const mab1 = mab({
    dimQ: dimIn,
    dimK: dimOut,
    dimV: dimOut,
    heads: options.heads,
    prefix: `${prefix}mab1.`,
  });
  const iName = `${prefix}I`;
  return {
    spec: { kind: 'isab', dimIn, dimOut, heads: mab0.spec.heads, inducing: m, prefix },
    paramSpecs: [{ name: iName, shape: [m, dimOut] }, ...mab0.paramSpecs, ...mab1.paramSpecs],
    outputSize: dimOut,
    init(rng: Rng): NamedTensors {
      // torch xavier_uniform_ on a [1, m, d] tensor: fanIn = m·d, fanOut = d.
      return {
        [iName]: xavierUniform(rng.split(iName), [m, dimOut], m * dimOut, dimOut),
        ...mab0.init(rng),
        ...mab1.init(rng),
      };
    },
    apply(p: NamedTensors, x: tf.Tensor): tf.Tensor {
      checkSet('x', x, dimIn);
      return tf.tidy(() => {
        const h = mab0.applyPair(p, tf.expandDims(p[iName]!, 0), x);
        return mab1.applyPair(p, x, h);
      });
    },
  };
}

export interface PmaOptions {
  readonly dim: number;
  readonly heads: number;
  /** Number of seed vectors k (outputs per set). */
  readonly seeds: number;
  readonly prefix?: string;
  readonly fused?: boolean;
}

export interface PmaSpec extends EncoderSpec {
  readonly kind: 'pma';
  readonly dim: number;
  readonly heads: number;
  readonly seeds: number;
  readonly prefix: string;
  readonly fused: boolean;
}

/**
 * Pooling by multi-head attention PMA_k(X) = MAB(S, X) with k learned seeds `S` `[k, dim]`
 * (parameter `${prefix}S`): `[B, n, dim]` → `[B, k, dim]`, invariant to permutations of the set.
 */
export function pma(options: PmaOptions): Encoder & { readonly spec: PmaSpec } {
  const dim = checkSize('dim', options.dim);
  const k = checkSize('seeds', options.seeds);
  const prefix = options.prefix ?? '';
  const inner = mab({ dimQ: dim, dimK: dim, dimV: dim, heads: options.heads, prefix, fused: options.fused });
  const sName = `${prefix}S`;
  return {
    spec: { kind: 'pma', dim, heads: inner.spec.heads, seeds: k, prefix, fused: inner.spec.fused },
    paramSpecs: [{ name: sName, shape: [k, dim] }, ...inner.paramSpecs],
    outputSize: dim,
    init(rng: Rng): NamedTensors {
      return { [sName]: xavierUniform(rng.split(sName), [k, dim], k * dim, dim), ...inner.init(rng) };
    },
    apply(p: NamedTensors, x: tf.Tensor): tf.Tensor {
      checkSet('x', x, dim);
      return tf.tidy(() => inner.applyPair(p, tf.expandDims(p[sName]!, 0), x));
    },
  };
}

export interface SetTransformerOptions {
  readonly inputSize: number;
  /** Hidden width (default 64). */
  readonly width?: number;
  /** Attention heads (default 4). */
  readonly heads?: number;
  /** PMA seeds k = outputs per set (default 1). */
  readonly seeds?: number;
  /** Features per output (default 2). */
  readonly outputSize?: number;
  /**
   * Run attention through `@gcvi/kernels`' fused kernel (default false). Faster for large sets;
   * its gradient is first-order only, so keep it off for double-VJP linearization.
   */
  readonly fusedAttention?: boolean;
}

export interface SetTransformerSpec extends EncoderSpec {
  readonly kind: 'set-transformer';
  readonly inputSize: number;
  readonly width: number;
  readonly heads: number;
  readonly seeds: number;
  readonly outputSize: number;
  readonly fusedAttention: boolean;
}

/**
 * The Set Transformer of DESIGN §2 E2: SAB(in→width) → SAB(width→width) → PMA(k seeds) →
 * Linear(width→outputSize). Input `[B, n, inputSize]` (B sets of n elements); output
 * `[B, seeds, outputSize]`, invariant to the order of each set's elements. Parameters:
 * `sab0.*`, `sab1.*`, `pma.S`, `pma.*`, `out.w` `[width, outputSize]`, `out.b`.
 */
export function setTransformer(
  options: SetTransformerOptions,
): Encoder & { readonly spec: SetTransformerSpec } {
  const inputSize = checkSize('inputSize', options.inputSize);
  const width = checkSize('width', options.width ?? 64);
  const heads = checkHeads(options.heads ?? 4, width);
  const seeds = checkSize('seeds', options.seeds ?? 1);
  const outputSize = checkSize('outputSize', options.outputSize ?? 2);
  const fused = options.fusedAttention === true;
  const s0 = sab({ dimIn: inputSize, dimOut: width, heads, prefix: 'sab0.', fused });
  const s1 = sab({ dimIn: width, dimOut: width, heads, prefix: 'sab1.', fused });
  const pool = pma({ dim: width, heads, seeds, prefix: 'pma.', fused });
  return {
    spec: { kind: 'set-transformer', inputSize, width, heads, seeds, outputSize, fusedAttention: fused },
    paramSpecs: [
      ...s0.paramSpecs,
      ...s1.paramSpecs,
      ...pool.paramSpecs,
      ...linearSpecs('out.', width, outputSize),
    ],
    outputSize,
    init(rng: Rng): NamedTensors {
      const out: NamedTensors = {
        ...s0.init(rng.split('sab0')),
        ...s1.init(rng.split('sab1')),
        ...pool.init(rng.split('pma')),
      };
      initLinear(rng.split('out'), out, 'out.', width, outputSize);
      return out;
    },
    apply(p: NamedTensors, x: tf.Tensor): tf.Tensor {
      checkSet('x', x, inputSize);
      return tf.tidy(() => linear3(pool.apply(p, s1.apply(p, s0.apply(p, x))), p['out.w']!, p['out.b']!));
    },
  };
}
