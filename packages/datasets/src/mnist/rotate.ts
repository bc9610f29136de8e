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
  if (images.rank !== 2 || images.shape[1] !== h * w) {
    throw new ShapeError('images', `[N, ${h * w}]`, images.shape);
  }
  const theta = typeof angle === 'number' ? tf.scalar(angle) : angle;
  if (theta.size !== 1) throw new ShapeError('angle', '[] (one shared angle)', theta.shape);
  return tf.tidy(() => {
    const { xn, yn } = pixelGrid(h, w);
    const th = tf.reshape(theta, []);
    const c = tf.cos(th);
    const s = tf.sin(th);
    // Source location in normalized coordinates, then in pixels (align_corners = false).
    const u = tf.sub(tf.mul(c, xn), tf.mul(s, yn));
    const v = tf.add(tf.mul(s, xn), tf.mul(c, yn));
    const px = tf.clipByValue(tf.div(tf.sub(tf.mul(tf.add(u, 1), w), 1), 2), 0, w - 1);
    const py = tf.clipByValue(tf.div(tf.sub(tf.mul(tf.add(v, 1), h), 1), 2), 0, h - 1);
    // Integer neighbours are piecewise constant in θ (zero gradient almost everywhere): read them on
    // the JS side so the tape only sees the smooth bilinear weights.
    const pxv = px.dataSync();
    const pyv = py.dataSync();
    const m = h * w;
    const i00 = new Int32Array(m);
    const i01 = new Int32Array(m);
    const i10 = new Int32Array(m);
    const i11 = new Int32Array(m);
    const fx = new Float32Array(m);
    const fy = new Float32Array(m);
    for (let k = 0; k < m; k++) {
      const x0 = Math.floor(pxv[k] as number);
      const y0 = Math.floor(pyv[k] as number);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      fx[k] = x0;
      fy[k] = y0;
      i00[k] = y0 * w + x0;
      i01[k] = y0 * w + x1;
      i10[k] = y1 * w + x0;
      i11[k] = y1 * w + x1;
    }
    const wx = tf.sub(px, tf.tensor1d(fx));
    const wy = tf.sub(py, tf.tensor1d(fy));
    const idx = (a: Int32Array) => tf.tensor1d(a, 'int32');
    const g = (i: tf.Tensor) => tf.gather(images, i, 1);
    const one = tf.scalar(1);
    const wx0 = tf.sub(one, wx);
    const wy0 = tf.sub(one, wy);
    const out = tf.addN([
      tf.mul(g(idx(i00)), tf.mul(wy0, wx0)),
      tf.mul(g(idx(i01)), tf.mul(wy0, wx)),
      tf.mul(g(idx(i10)), tf.mul(wy, wx0)),
      tf.mul(g(idx(i11)), tf.mul(wy, wx)),
    ]);
    return out;
  });
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
