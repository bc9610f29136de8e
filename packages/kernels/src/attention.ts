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
import { pad4, simdFloats, simdModule } from './wasm/simd.js';

/** Kernel name: softmax(q kᵀ · scale) v per group, without an n×n matrix. */
export const FusedAttention = 'GcviFusedAttention';
/** Kernel name of its backward pass: (dy, q, k, v, out) → (dq, dk, dv). */
export const FusedAttentionGrad = 'GcviFusedAttentionGrad';

function dims(q: tf.TensorInfo, k: tf.TensorInfo, v: tf.TensorInfo) {
  return { groups: q.shape[0], nq: q.shape[1], nk: k.shape[1], d: q.shape[2], dv: v.shape[2] };
}

/**
 * Forward, flash-attention style: each query row streams over the keys with an online softmax
 * (running max m, running sum l, accumulator rescaled when the max grows), so memory is
 * O(rows · d) and no score matrix exists. float64 accumulation.
 */
function forward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const { q, k, v } = inputs;
  const scale = attrs.scale as number;
  const { groups, nq, nk, d, dv } = dims(q, k, v);
  const [out] = runJsKernel(
    FusedAttention,
    backendName,
    backend,
    [q, k, v],
    [[groups, nq, dv]],
    (ins, outs) => {
      const [qv, kv, vv] = ins;
      const o = outs[0];
      if (simdForward(qv, kv, vv, o, groups, nq, nk, d, dv, scale)) return;
      const acc = new Float64Array(dv);
      const qi = new Float64Array(d);
      for (let g = 0; g < groups; g++) {
        const qBase = g * nq * d;
        const kBase = g * nk * d;
        const vBase = g * nk * dv;
        for (let i = 0; i < nq; i++) {
          for (let c = 0; c < d; c++) qi[c] = qv[qBase + i * d + c] * scale;
          let m = Number.NEGATIVE_INFINITY;
          let l = 0;
          acc.fill(0);
          for (let j = 0; j < nk; j++) {
            const kr = kBase + j * d;
            let s = 0;
            for (let c = 0; c < d; c++) s += qi[c] * kv[kr + c];
            if (s > m) {
              const r = Math.exp(m - s);
              l *= r;
              for (let c = 0; c < dv; c++) acc[c] *= r;
              m = s;
            }
            const p = Math.exp(s - m);
            l += p;
            const vr = vBase + j * dv;
            for (let c = 0; c < dv; c++) acc[c] += p * vv[vr + c];
          }
          const ob = (g * nq + i) * dv;
          for (let c = 0; c < dv; c++) o[ob + c] = acc[c] / l;
        }
      }
    },
  );
  return out;
}

/**
 * Backward with recomputation (no stored probabilities): per query row, pass 1 recomputes the
 * log-sum-exp L_i of its scores; pass 2 streams over keys with p_ij = exp(s_ij − L_i),
 * dp_ij = dO_i·v_j, ds_ij = p_ij (dp_ij − dO_i·O_i), and accumulates dv_j += p_ij dO_i,
 * dk_j += scale ds_ij q_i, dq_i += scale ds_ij k_j.
 */
function backward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo[] {
  const { dy, q, k, v, out } = inputs;
  const scale = attrs.scale as number;
  const { groups, nq, nk, d, dv } = dims(q, k, v);
  return runJsKernel(
    FusedAttentionGrad,
    backendName,
    backend,
    [dy, q, k, v, out],
    [q.shape, k.shape, v.shape],
    (ins, outs) => {
      const [dyv, qv, kv, vv, ov] = ins;
      const [dq, dk, dvo] = outs;
      if (simdBackward(dyv, qv, kv, vv, ov, dq, dk, dvo, groups, nq, nk, d, dv, scale)) return;
      const gk = new Float64Array(nk * d);
      const gv = new Float64Array(nk * dv);
      const gq = new Float64Array(d);
      const qi = new Float64Array(d);
      const doi = new Float64Array(dv);
      for (let g = 0; g < groups; g++) {
        const qBase = g * nq * d;
        const kBase = g * nk * d;
        const vBase = g * nk * dv;
        gk.fill(0);
        gv.fill(0);
        for (let i = 0; i < nq; i++) {
          for (let c = 0; c < d; c++) qi[c] = qv[qBase + i * d + c];
          const ob = (g * nq + i) * dv;
          let di = 0;
          for (let c = 0; c < dv; c++) {
            doi[c] = dyv[ob + c];
            di += doi[c] * ov[ob + c];
          }
          // Pass 1: L_i = log Σ_j exp(s_ij).
          let m = Number.NEGATIVE_INFINITY;
          let l = 0;
          for (let j = 0; j < nk; j++) {
            const kr = kBase + j * d;
            let s = 0;
            for (let c = 0; c < d; c++) s += qi[c] * kv[kr + c];
            s *= scale;
            if (s > m) {
              l = l * Math.exp(m - s) + 1;
              m = s;
            } else l += Math.exp(s - m);
          }
          const lse = m + Math.log(l);
          // Pass 2.
          gq.fill(0);
          for (let j = 0; j < nk; j++) {
            const kr = kBase + j * d;
            const vr = vBase + j * dv;
            let s = 0;
            for (let c = 0; c < d; c++) s += qi[c] * kv[kr + c];
            const p = Math.exp(s * scale - lse);
            let dp = 0;
            for (let c = 0; c < dv; c++) {
              dp += doi[c] * vv[vr + c];
              gv[j * dv + c] += p * doi[c];
            }
            const ds = p * (dp - di) * scale;
            for (let c = 0; c < d; c++) {
              gk[j * d + c] += ds * qi[c];
              gq[c] += ds * kv[kr + c];
            }
          }
          for (let c = 0; c < d; c++) dq[qBase + i * d + c] = gq[c];
        }
        for (let t = 0; t < nk * d; t++) dk[kBase + t] = gk[t];
        for (let t = 0; t < nk * dv; t++) dvo[vBase + t] = gv[t];
      }
    },
  );
}

/** Copy `rows × cols` row-major `src` (at `base`) transposed into `mem` at `at`: [cols, ld]. */
function transposeInto(
  mem: Float32Array,
  at: number,
  src: Float32Array,
  base: number,
  rows: number,
  cols: number,
  ld: number,
): void {
  for (let c = 0; c < cols; c++) {
    const row = at + c * ld;
    for (let j = 0; j < rows; j++) mem[row + j] = src[base + j * cols + c];
    for (let j = rows; j < ld; j++) mem[row + j] = 0;
  }
}

/** Padded keys get a score of −1e30: after the max subtraction their exp is exactly 0. */
function initScores(mem: Float32Array, at: number, nk: number, nkp: number): void {
  mem.fill(0, at, at + nk);
  mem.fill(-1e30, at + nk, at + nkp);
}

/**
 * SIMD forward: per group, Kᵀ and Vᵀ `[d, nkp]` in the module memory; per query row, the row of
 * scores (nkp floats: a row block, never the matrix) → softmax in place → output = P Vᵀ.
 */
function simdForward(
  qv: Float32Array,
  kv: Float32Array,
  vv: Float32Array,
  o: Float32Array,
  groups: number,
  nq: number,
  nk: number,
  d: number,
  dv: number,
  scale: number,
): boolean {
  const m = simdModule();
  if (!m) return false;
  const nkp = pad4(nk);
  const KT = 0;
  const VT = KT + d * nkp;
  const S = VT + dv * nkp;
  const Q = S + nkp;
  const OUT = Q + d;
  const mem = simdFloats(m, OUT + dv);
  for (let g = 0; g < groups; g++) {
    transposeInto(mem, KT, kv, g * nk * d, nk, d, nkp);
    transposeInto(mem, VT, vv, g * nk * dv, nk, dv, nkp);
    for (let i = 0; i < nq; i++) {
      const qb = (g * nq + i) * d;
      for (let c = 0; c < d; c++) mem[Q + c] = qv[qb + c] * scale;
      initScores(mem, S, nk, nkp);
      m.rows_axpy(4 * S, 4 * Q, 4 * KT, d, nkp);
      m.softmax_row(4 * S, nkp);
      m.rows_reduce(4 * S, 4 * VT, 4 * OUT, dv, nkp, 1);
      o.set(mem.subarray(OUT, OUT + dv), (g * nq + i) * dv);
    }
  }
  return true;
}

/**
 * SIMD backward, per query row: recompute P (scores + softmax), dp = dO Vᵀ, ds = P (dp − dO·O),
 * dVᵀ += dO ⊗ P, dKᵀ += (scale q) ⊗ ds, dq = scale · ds Kᵀ. Only row-sized scratch.
 */
function simdBackward(
  dyv: Float32Array,
  qv: Float32Array,
  kv: Float32Array,
  vv: Float32Array,
  ov: Float32Array,
  dq: Float32Array,
  dk: Float32Array,
  dvo: Float32Array,
  groups: number,
  nq: number,
  nk: number,
  d: number,
  dv: number,
  scale: number,
): boolean {
  const m = simdModule();
  if (!m) return false;
  const nkp = pad4(nk);
  const KT = 0;
  const VT = KT + d * nkp;
  const DKT = VT + dv * nkp;
  const DVT = DKT + d * nkp;
  const S = DVT + dv * nkp;
  const DP = S + nkp;
  const Q = DP + nkp;
  const DO = Q + d;
  const DQ = DO + dv;
  const mem = simdFloats(m, DQ + d);
  for (let g = 0; g < groups; g++) {
    transposeInto(mem, KT, kv, g * nk * d, nk, d, nkp);
    transposeInto(mem, VT, vv, g * nk * dv, nk, dv, nkp);
    mem.fill(0, DKT, S);
    for (let i = 0; i < nq; i++) {
      const qb = (g * nq + i) * d;
      const ob = (g * nq + i) * dv;
      for (let c = 0; c < d; c++) mem[Q + c] = qv[qb + c] * scale;
      let di = 0;
      for (let c = 0; c < dv; c++) {
        mem[DO + c] = dyv[ob + c];
        di += dyv[ob + c] * ov[ob + c];
      }
      initScores(mem, S, nk, nkp);
      m.rows_axpy(4 * S, 4 * Q, 4 * KT, d, nkp);
      m.softmax_row(4 * S, nkp);
      mem.fill(0, DP, DP + nkp);
      m.rows_axpy(4 * DP, 4 * DO, 4 * VT, dv, nkp);
      m.ds_row(4 * S, 4 * DP, di, nkp);
      m.rows_outer(4 * DVT, 4 * DO, 4 * S, dv, nkp, 1);
      m.rows_outer(4 * DKT, 4 * Q, 4 * DP, d, nkp, 1);
      m.rows_reduce(4 * DP, 4 * KT, 4 * DQ, d, nkp, scale);
      dq.set(mem.subarray(DQ, DQ + d), qb);
    }
    for (let j = 0; j < nk; j++) {
      for (let c = 0; c < d; c++) dk[(g * nk + j) * d + c] = mem[DKT + c * nkp + j];
      for (let c = 0; c < dv; c++) dvo[(g * nk + j) * dv + c] = mem[DVT + c * nkp + j];
    }
  }
  return true;
}

/** The forward and backward kernels on wasm and cpu (registered from `register_all.ts`). */
export const fusedAttentionKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(FusedAttention, forward),
  ...jsKernelConfigs(FusedAttentionGrad, backward),
];

/** Gradient of the forward kernel: the fused backward kernel (first order only). */
export const fusedAttentionGradConfig: tf.GradConfig = gradViaKernel(
  FusedAttention,
  FusedAttentionGrad,
  ['q', 'k', 'v'],
  { saveOutput: true },
);

function check(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): void {
  if (q.rank !== 3) throw new ShapeError('q', '[groups, queries, d]', q.shape);
  if (k.rank !== 3 || k.shape[0] !== q.shape[0] || k.shape[2] !== q.shape[2]) {
    throw new ShapeError('k', `[${q.shape[0]}, keys, ${q.shape[2]}]`, k.shape);
  }
  if (v.rank !== 3 || v.shape[0] !== q.shape[0] || v.shape[1] !== k.shape[1]) {
    throw new ShapeError('v', `[${q.shape[0]}, ${k.shape[1]}, dv]`, v.shape);
  }
  if (k.shape[1] === 0) throw new ShapeError('k', 'at least one key', k.shape);
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    if (t.dtype !== 'float32') throw new ConfigError(name, `fusedAttention needs float32, got ${t.dtype}`);
  }
}

/** softmax(q kᵀ · scale) v with plain tfjs ops (materializes the scores): the test reference. */
export function attentionPlain(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale?: number): tf.Tensor3D {
  check(q, k, v);
  const s = scale ?? 1 / Math.sqrt(q.shape[2] as number);
  return tf.tidy(() =>
    tf.matMul(
      tf.softmax(tf.mul(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), s)),
      v as tf.Tensor3D,
    ),
  );
}

/**
 * Scaled dot-product attention softmax(q kᵀ · scale) v for every group (batch × heads), as one
 * kernel on wasm and cpu that never forms the `[queries, keys]` score matrix, forward or
 * backward (online softmax; the backward recomputes scores). Gradients for q, k and v.
 *
 * @param q `[groups, queries, d]`
 * @param k `[groups, keys, d]`
 * @param v `[groups, keys, dv]`
 * @param scale default 1/√d (the Set Transformer reference uses 1/√(model width))
 * @returns `[groups, queries, dv]`
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale?: number): tf.Tensor3D {
  check(q, k, v);
  const s = scale ?? 1 / Math.sqrt(q.shape[2] as number);
  if (!Number.isFinite(s)) throw new ConfigError('scale', `must be finite, got ${s}`);
  if (!hasFusedKernel(FusedAttention)) return attentionPlain(q, k, v, s);
  return tf.engine().runKernel(FusedAttention, { q, k, v }, { scale: s }) as tf.Tensor3D;
}
