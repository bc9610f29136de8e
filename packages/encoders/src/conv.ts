import { GcviIm2Col, hasFusedKernel, im2col, matMul } from '@gcvi/kernels';
import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * im2col patches of an NHWC batch for a `kh×kw` 'valid' convolution with stride `s`:
 * `[N, H, W, C]` → `[N·Ho·Wo, kh·kw·C]`, column index (ky·kw + kx)·C + c (the row-major order of
 * a `[kh, kw, C, Co]` filter). On wasm and cpu this is the `im2col` kernel of @gcvi/kernels (one
 * copy pass; its gradient col2im); elsewhere a convolution with a constant one-hot filter, so it
 * runs on the backend's fast conv kernel. Differentiable (in x) to any order either way.
 */
export function patches(x: tf.Tensor4D, kh: number, kw: number, s: number): tf.Tensor2D {
  if (hasFusedKernel(GcviIm2Col)) return im2col(x, kh, kw, s);
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
 *
 * On wasm and cpu (where @gcvi/kernels registers its kernels) the convolution is instead
 * `im2col(x) · reshape(filter, [kh·kw·C, Co])` with the kernels' SIMD GEMM: the same numbers up to
 * float32 rounding, several times faster than tfjs-backend-wasm's convolution and matMul, and
 * differentiable to any order (im2col ↔ col2im, matMul's gradient is matMuls).
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (x.rank !== 4) throw new ShapeError('x', '[N, H, W, C]', x.shape);
  if (filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new ShapeError('filter', `[kh, kw, ${x.shape[3]}, outChannels]`, filter.shape);
  }
  if (hasFusedKernel(GcviIm2Col)) {
    const [kh, kw, c, co] = filter.shape;
    const [n, h, w] = x.shape;
    const ho = Math.floor((h - kh) / stride) + 1;
    const wo = Math.floor((w - kw) / stride) + 1;
    return tf.tidy(() =>
      tf.reshape(matMul(im2col(x, kh, kw, stride), tf.reshape(filter, [kh * kw * c, co])), [n, ho, wo, co]),
    ) as tf.Tensor4D;
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
