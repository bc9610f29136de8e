import { fusedAttention } from '@gcvi/kernels';
import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Multi-head scaled dot-product attention, the one place the Set Transformer computes attention
 * (a fused kernel can replace this function). `q` is `[B, nq, D]`, `k` and `v` are `[B, nk, D]`;
 * each of `heads` heads takes a contiguous `D / heads` slice of the features. Returns `[B, nq, D]`:
 * for each head, softmax(q_h k_hᵀ · scale) v_h, heads concatenated back in order.
 * `scale` defaults to 1/√D — the full width, as in Lee et al.'s reference Set Transformer
 * (not 1/√(D/heads)). `options.fused` runs each head through `@gcvi/kernels`' fused attention
 * kernel (never forms the score matrix; first-order gradients only, so not for double-VJP).
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  scale?: number,
  options: { fused?: boolean } = {},
): tf.Tensor {
  if (q.rank !== 3) throw new ShapeError('q', '[batch, nq, dim]', q.shape);
  const [b, nq, d] = q.shape as [number, number, number];
  if (k.rank !== 3 || k.shape[0] !== b || k.shape[2] !== d) {
    throw new ShapeError('k', `[${b}, nk, ${d}]`, k.shape);
  }
  const nk = k.shape[1]!;
  if (v.rank !== 3 || v.shape[0] !== b || v.shape[1] !== nk || v.shape[2] !== d) {
    throw new ShapeError('v', `[${b}, ${nk}, ${d}]`, v.shape);
  }
  if (!Number.isInteger(heads) || heads <= 0 || d % heads !== 0) {
    throw new ConfigError('heads', `must be a positive integer dividing the width ${d}, got ${heads}`);
  }
  const s = scale ?? 1 / Math.sqrt(d);
  return tf.tidy(() => {
    if (options.fused) {
      if (heads === 1) return fusedAttention(q, k, v, s);
      const dh = d / heads;
      const split = (t: tf.Tensor, n: number) =>
        tf.reshape(tf.transpose(tf.reshape(t, [b, n, heads, dh]), [0, 2, 1, 3]), [b * heads, n, dh]);
      const o = fusedAttention(split(q, nq), split(k, nk), split(v, nk), s);
      return tf.reshape(tf.transpose(tf.reshape(o, [b, heads, nq, dh]), [0, 2, 1, 3]), [b, nq, d]);
    }
    if (heads === 1) {
      const a = tf.softmax(tf.mul(tf.matMul(q, k, false, true), s));
      return tf.matMul(a, v);
    }
    const dh = d / heads;
    const split = (t: tf.Tensor, n: number) => tf.transpose(tf.reshape(t, [b, n, heads, dh]), [0, 2, 1, 3]);
    const a = tf.softmax(tf.mul(tf.matMul(split(q, nq), split(k, nk), false, true), s));
    const o = tf.matMul(a, split(v, nk));
    return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, nq, d]);
  });
}
