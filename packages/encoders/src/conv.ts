import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * im2col patches of an NHWC batch for a `kh×kw` 'valid' convolution with stride `s`:
 * `[N, H, W, C]` → `[N·Ho·Wo, kh·kw·C]`, column index (ky·kw + kx)·C + c (the row-major order of
 * a `[kh, kw, C, Co]` filter). Built from pad / slice / reshape only, so it is differentiable to
 * any order on every backend.
 */
export function patches(x: tf.Tensor4D, kh: number, kw: number, s: number): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const ho = Math.floor((h - kh) / s) + 1;
  const wo = Math.floor((w - kw) / s) + 1;
  return tf.tidy(() => {
    // Pad so that every offset can take s·Ho rows (the extra rows are never selected).
    const hp = Math.max(h, kh - 1 + s * ho);
    const wp = Math.max(w, kw - 1 + s * wo);
    const xp =
      hp > h || wp > w
        ? tf.pad(x, [
            [0, 0],
            [0, hp - h],
            [0, wp - w],
            [0, 0],
          ])
        : x;
    const cols: tf.Tensor[] = [];
    for (let ky = 0; ky < kh; ky++) {
      let rows: tf.Tensor = tf.slice(xp, [0, ky, 0, 0], [n, s * ho, wp, c]);
      if (s > 1) rows = tf.slice(tf.reshape(rows, [n, ho, s, wp, c]), [0, 0, 0, 0, 0], [n, ho, 1, wp, c]);
      rows = tf.reshape(rows, [n, ho, wp, c]);
      for (let kx = 0; kx < kw; kx++) {
        let p: tf.Tensor = tf.slice(rows, [0, 0, kx, 0], [n, ho, s * wo, c]);
        if (s > 1) p = tf.slice(tf.reshape(p, [n, ho, wo, s, c]), [0, 0, 0, 0, 0], [n, ho, wo, 1, c]);
        cols.push(tf.reshape(p, [n * ho * wo, c]));
      }
    }
    return tf.concat(cols, 1) as tf.Tensor2D;
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
