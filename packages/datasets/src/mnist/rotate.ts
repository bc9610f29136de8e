import { hasRotateBilinear, rotateBilinear } from '@gcvi/kernels';
import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Rotate a batch of images `[N, H, W]` (or `[N, H*W]` with `size`) by one shared angle (radians,
 * counterclockwise as displayed with row 0 at the top), by bilinear resampling about the image
 * centre. Semantics of PyTorch's `grid_sample(x, affine_grid([[cos, -sin, 0], [sin, cos, 0]]),
 * align_corners=False, padding_mode='border')`: output pixel (i, j) at normalized coordinates
 * (x, y) = ((2j + 1)/W − 1, (2i + 1)/H − 1) reads the input at (cos θ x − sin θ y, sin θ x + cos θ y),
 * unnormalized by ((u + 1) W − 1)/2 and clamped to the image (border padding).
 *
 * Built from tf ops: the four neighbour indices are integers (their gradient is zero almost
 * everywhere, so they are computed on the JS side from the source coordinates) and the bilinear
 * weights are tf ops smooth in θ, so `tf.grad` gives d(output)/dθ. One set of indices and weights
 * serves the whole batch (one gather per neighbour).
 */
export function rotateImages(images: tf.Tensor, angle: tf.Tensor | number): tf.Tensor {
  if (images.rank !== 3) throw new ShapeError('images', '[N, H, W]', images.shape);
  const [n, h, w] = images.shape as [number, number, number];
  return tf.tidy(() => {
    const flat = tf.reshape(images, [n, h * w]);
    const out = rotateFlat(flat, angle, h, w);
    return tf.reshape(out, [n, h, w]);
  });
}

/** Same as `rotateImages` on flattened images `[N, H*W]` (row-major). */
export function rotateFlat(images: tf.Tensor, angle: tf.Tensor | number, h: number, w: number): tf.Tensor {
  const theta = typeof angle === 'number' ? tf.scalar(angle) : angle;
  if (theta.size !== 1) throw new ShapeError('angle', '[] (one shared angle)', theta.shape);
  return tf.tidy(() => {
    const out = rotateFlatMany(images, tf.reshape(theta, [1]), h, w);
    return tf.reshape(out, images.shape);
  });
}

/**
 * Rotate flattened images `[N, H*W]` by each of K angles `[K]`: returns `[K, N, H*W]`, differentiable
 * in the angles and the images (same semantics as `rotateImages`). On wasm and cpu this is the
 * fused `rotateBilinear` kernel of @gcvi/kernels (one pass per angle, analytic angle gradient);
 * elsewhere the tf-op composition `rotateFlatManyPlain`.
 */
export function rotateFlatMany(images: tf.Tensor, angles: tf.Tensor, h: number, w: number): tf.Tensor3D {
  if (images.rank !== 2 || images.shape[1] !== h * w) {
    throw new ShapeError('images', `[N, ${h * w}]`, images.shape);
  }
  if (angles.rank !== 1) throw new ShapeError('angles', '[K]', angles.shape);
  if (hasRotateBilinear() && images.dtype === 'float32' && angles.dtype === 'float32') {
    return rotateBilinear(images, angles, h, w);
  }
  return rotateFlatManyPlain(images, angles, h, w);
}

/**
 * `rotateFlatMany` from tf ops (gathers with bilinear weights that are tf ops smooth in θ): the
 * reference the fused kernel is tested against, and the path on backends without it.
 */
export function rotateFlatManyPlain(images: tf.Tensor, angles: tf.Tensor, h: number, w: number): tf.Tensor3D {
  if (images.rank !== 2 || images.shape[1] !== h * w) {
    throw new ShapeError('images', `[N, ${h * w}]`, images.shape);
  }
  if (angles.rank !== 1) throw new ShapeError('angles', '[K]', angles.shape);
  const n = images.shape[0] as number;
  const k = angles.shape[0] as number;
  const m = h * w;
  return tf.tidy(() => {
    const { xn, yn } = pixelGrid(h, w);
    const th = tf.reshape(angles, [k, 1]);
    const c = tf.cos(th);
    const s = tf.sin(th);
    // Source location in normalized coordinates, then in pixels (align_corners = false): [K, m].
    const u = tf.sub(tf.mul(c, xn), tf.mul(s, yn));
    const v = tf.add(tf.mul(s, xn), tf.mul(c, yn));
    const px = tf.clipByValue(tf.div(tf.sub(tf.mul(tf.add(u, 1), w), 1), 2), 0, w - 1);
    const py = tf.clipByValue(tf.div(tf.sub(tf.mul(tf.add(v, 1), h), 1), 2), 0, h - 1);
    // Integer neighbours are piecewise constant in θ (zero gradient almost everywhere): read them on
    // the JS side so the tape only sees the smooth bilinear weights.
    const pxv = px.dataSync();
    const pyv = py.dataSync();
    const km = k * m;
    const i00 = new Int32Array(km);
    const i01 = new Int32Array(km);
    const i10 = new Int32Array(km);
    const i11 = new Int32Array(km);
    const fx = new Float32Array(km);
    const fy = new Float32Array(km);
    for (let q = 0; q < km; q++) {
      const x0 = Math.floor(pxv[q] as number);
      const y0 = Math.floor(pyv[q] as number);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      fx[q] = x0;
      fy[q] = y0;
      i00[q] = y0 * w + x0;
      i01[q] = y0 * w + x1;
      i10[q] = y1 * w + x0;
      i11[q] = y1 * w + x1;
    }
    const wx = tf.reshape(tf.sub(px, tf.tensor2d(fx, [k, m])), [k, 1, m]);
    const wy = tf.reshape(tf.sub(py, tf.tensor2d(fy, [k, m])), [k, 1, m]);
    // gather → [N, K*m] → [K, N, m]
    const g = (a: Int32Array) => tf.transpose(tf.reshape(gatherColumns(images, a), [n, k, m]), [1, 0, 2]);
    const wx0 = tf.sub(1, wx);
    const wy0 = tf.sub(1, wy);
    return tf.addN([
      tf.mul(g(i00), tf.mul(wy0, wx0)),
      tf.mul(g(i01), tf.mul(wy0, wx)),
      tf.mul(g(i10), tf.mul(wy, wx0)),
      tf.mul(g(i11), tf.mul(wy, wx)),
    ]) as tf.Tensor3D;
  });
}

/**
 * `tf.gather(x, idx, 1)` for fixed indices, with its gradient as a scatter-add (`scatterND` sums
 * duplicates) instead of tfjs's `UnsortedSegmentSum`, which the wasm backend lacks.
 */
function gatherColumns(x: tf.Tensor, idx: Int32Array): tf.Tensor {
  const [rows, cols] = x.shape as [number, number];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(args[0] as tf.Tensor, tf.tensor1d(idx, 'int32'), 1),
    gradFunc: (dy: tf.Tensor) =>
      tf.tidy(() =>
        tf.transpose(
          tf.scatterND(tf.tensor2d(idx, [idx.length, 1], 'int32'), tf.transpose(dy), [cols, rows]),
        ),
      ),
  }));
  return op(x);
}

function pixelGrid(h: number, w: number): { xn: tf.Tensor1D; yn: tf.Tensor1D } {
  const xs = new Float32Array(h * w);
  const ys = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      xs[i * w + j] = (2 * j + 1) / w - 1;
      ys[i * w + j] = (2 * i + 1) / h - 1;
    }
  }
  return { xn: tf.tensor1d(xs), yn: tf.tensor1d(ys) };
}

/**
 * Plain-JS float64 reference of `rotateImages` for one image (row-major `h*w`): used by tests and
 * handy for checking other implementations.
 */
export function rotateImageReference(
  img: ArrayLike<number>,
  angle: number,
  h: number,
  w: number,
): Float64Array {
  const out = new Float64Array(h * w);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const clamp = (a: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, a));
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const x = (2 * j + 1) / w - 1;
      const y = (2 * i + 1) / h - 1;
      const px = clamp(((c * x - s * y + 1) * w - 1) / 2, 0, w - 1);
      const py = clamp(((s * x + c * y + 1) * h - 1) / 2, 0, h - 1);
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const ax = px - x0;
      const ay = py - y0;
      const at = (r: number, q: number) => img[r * w + q] as number;
      out[i * w + j] =
        (1 - ay) * ((1 - ax) * at(y0, x0) + ax * at(y0, x1)) + ay * ((1 - ax) * at(y1, x0) + ax * at(y1, x1));
    }
  }
  return out;
}
