import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * im2col patches of an NHWC batch for a `kh×kw` 'valid' convolution with stride `s`:
 * `[N, H, W, C]` → `[N·Ho·Wo, kh·kw·C]`, column index (ky·kw + kx)·C + c (the row-major order of
 * a `[kh, kw, C, Co]` filter). Computed as a convolution with a constant one-hot filter, so it
 * runs on the backend's fast conv kernel and is differentiable (in x) to any order.
 */
export function patches(x: tf.Tensor4D, kh: number, kw: number, s: number): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const ho = Math.floor((h - kh) / s) + 1;
  const wo = Math.floor((w - kw) / s) + 1;
  const k = kh * kw * c;
  const eye = new Float32Array(k * k);
  for (let i = 0; i < k; i++) eye[i * k + i] = 1; // [ky, kx, c] row i → column i
  return tf.tidy(() => {
    const filter = tf.tensor4d(eye, [kh, kw, c, k]);
    return tf.reshape(tf.conv2d(x, filter, s, 'valid'), [n * ho * wo, k]) as tf.Tensor2D;
  });
}

/**
 * 2-D convolution, NHWC, 'valid' padding, stride `s`, filter `[kh, kw, C, Co]`: `tf.conv2d` in the
 * forward pass, with its own gradient: d input = conv2dTranspose (the `Conv2DBackpropInput`
 * kernel) and d filter = patchesᵀ · dy as one matrix product. tfjs-backend-wasm 4.22 has no
 * `Conv2DBackpropFilter` kernel (and its `Conv3DBackpropFilterV2` gives wrong results for stride
 * 2), so `tf.conv2d` cannot be trained there; this can, on every backend, and its gradient is
 * itself differentiable (double-VJP Jacobian–vector products work through it).
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (x.rank !== 4) throw new ShapeError('x', '[N, H, W, C]', x.shape);
  if (filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new ShapeError('filter', `[kh, kw, ${x.shape[3]}, outChannels]`, filter.shape);
  }
  const f = tf.customGrad((...args: unknown[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, (ts: tf.Tensor[]) => void];
    save([xi, wi]);
    const value = tf.conv2d(xi, wi, stride, 'valid');
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor4D;
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [kh, kw, c, co] = ws.shape;
        const [n, ho, wo] = g.shape;
        const dx = tf.conv2dTranspose(g, ws, xs.shape, stride, 'valid');
        const dw = tf.reshape(
          tf.matMul(patches(xs, kh, kw, stride), tf.reshape(g, [n * ho * wo, co]), true, false),
          [kh, kw, c, co],
        );
        return [dx, dw];
      },
    };
  });
  return f(x, filter) as tf.Tensor4D;
}
