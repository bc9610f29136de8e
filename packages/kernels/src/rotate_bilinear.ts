import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';

/**
 * Kernel name of the bilinear rotation of flattened images `[N, H·W]` by each of K angles `[K]`
 * → `[K, N, H·W]` (border padding, align_corners = false; the semantics of `rotateFlatMany` in
 * @gcvi/datasets and of PyTorch's affine_grid + grid_sample).
 */
export const GcviRotateBilinear = 'GcviRotateBilinear';
/** Its gradient with respect to the angles: (dy, images, angles) → `[K]`. */
export const GcviRotateBilinearGradAngles = 'GcviRotateBilinearGradAngles';
/** Its gradient with respect to the images (the transposed resampling): (dy, angles) → `[N, H·W]`. */
export const GcviRotateBilinearGradImages = 'GcviRotateBilinearGradImages';

export interface RotateBilinearAttrs {
  height: number;
  width: number;
}

/**
 * Sampling plan of one angle: for output pixel q the four neighbour indices, the fractional
 * offsets (wx, wy) and d(px)/dθ, d(py)/dθ (zero where the coordinate is clamped to the border).
 */
export interface Plan {
  i00: Int32Array;
  i01: Int32Array;
  i10: Int32Array;
  i11: Int32Array;
  wx: Float64Array;
  wy: Float64Array;
  dpx: Float64Array;
  dpy: Float64Array;
}

export function makePlan(m: number): Plan {
  return {
    i00: new Int32Array(m),
    i01: new Int32Array(m),
    i10: new Int32Array(m),
    i11: new Int32Array(m),
    wx: new Float64Array(m),
    wy: new Float64Array(m),
    dpx: new Float64Array(m),
    dpy: new Float64Array(m),
  };
}

/**
 * Output pixel (i, j) sits at normalized (x, y) = ((2j + 1)/W − 1, (2i + 1)/H − 1) and reads the
 * input at (u, v) = (cos θ x − sin θ y, sin θ x + cos θ y), unnormalized by ((u + 1) W − 1)/2 and
 * clamped to [0, W − 1] (border padding); same for v with H.
 */
export function fillPlan(p: Plan, theta: number, h: number, w: number): void {
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  let q = 0;
  for (let i = 0; i < h; i++) {
    const y = (2 * i + 1) / h - 1;
    for (let j = 0; j < w; j++, q++) {
      const x = (2 * j + 1) / w - 1;
      const u = c * x - s * y;
      const v = s * x + c * y;
      let px = ((u + 1) * w - 1) / 2;
      let py = ((v + 1) * h - 1) / 2;
      // d/dθ of u is −s x − c y, of v is c x − s y; clamped coordinates do not move.
      let dpx = (w / 2) * (-s * x - c * y);
      let dpy = (h / 2) * (c * x - s * y);
      if (px < 0 || px > w - 1) {
        px = px < 0 ? 0 : w - 1;
        dpx = 0;
      }
      if (py < 0 || py > h - 1) {
        py = py < 0 ? 0 : h - 1;
        dpy = 0;
      }
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      const y1 = y0 + 1 < h ? y0 + 1 : h - 1;
      p.i00[q] = y0 * w + x0;
      p.i01[q] = y0 * w + x1;
      p.i10[q] = y1 * w + x0;
      p.i11[q] = y1 * w + x1;
      p.wx[q] = px - x0;
      p.wy[q] = py - y0;
      p.dpx[q] = dpx;
      p.dpy[q] = dpy;
    }
  }
}

function dimsOf(images: tf.TensorInfo, angles: tf.TensorInfo, a: RotateBilinearAttrs) {
  return { n: images.shape[0]!, m: a.height * a.width, k: angles.shape[0]! };
}

function forward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { images, angles } = inputs as { images: tf.TensorInfo; angles: tf.TensorInfo };
  const a = attrs as unknown as RotateBilinearAttrs;
  const { n, m, k } = dimsOf(images, angles, a);
  const [out] = runJsKernel(
    GcviRotateBilinear,
    backendName,
    backend,
    [images, angles],
    [[k, n, m]],
    (ins, outs) => {
      const img = ins[0]!;
      const th = ins[1]!;
      const y = outs[0]!;
      const p = makePlan(m);
      for (let kk = 0; kk < k; kk++) {
        fillPlan(p, th[kk] as number, a.height, a.width);
        const { i00, i01, i10, i11, wx, wy } = p;
        for (let b = 0; b < n; b++) {
          const src = b * m;
          const dst = (kk * n + b) * m;
          for (let q = 0; q < m; q++) {
            const ax = wx[q] as number;
            const ay = wy[q] as number;
            const top =
              (1 - ax) * (img[src + (i00[q] as number)] as number) +
              ax * (img[src + (i01[q] as number)] as number);
            const bot =
              (1 - ax) * (img[src + (i10[q] as number)] as number) +
              ax * (img[src + (i11[q] as number)] as number);
            y[dst + q] = (1 - ay) * top + ay * bot;
          }
        }
      }
    },
  );
  return out!;
}

/** d/dθ_k = Σ_{n, q} dy[k, n, q] (∂out/∂wx · dpx/dθ + ∂out/∂wy · dpy/dθ). */
function gradAngles(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { dy, images, angles } = inputs as {
    dy: tf.TensorInfo;
    images: tf.TensorInfo;
    angles: tf.TensorInfo;
  };
  const a = attrs as unknown as RotateBilinearAttrs;
  const { n, m, k } = dimsOf(images, angles, a);
  const [out] = runJsKernel(
    GcviRotateBilinearGradAngles,
    backendName,
    backend,
    [dy, images, angles],
    [[k]],
    (ins, outs) => {
      const g = ins[0]!;
      const img = ins[1]!;
      const th = ins[2]!;
      const d = outs[0]!;
      const p = makePlan(m);
      for (let kk = 0; kk < k; kk++) {
        fillPlan(p, th[kk] as number, a.height, a.width);
        const { i00, i01, i10, i11, wx, wy, dpx, dpy } = p;
        let acc = 0;
        for (let b = 0; b < n; b++) {
          const src = b * m;
          const gy = (kk * n + b) * m;
          for (let q = 0; q < m; q++) {
            const gq = g[gy + q] as number;
            if (gq === 0) continue;
            const v00 = img[src + (i00[q] as number)] as number;
            const v01 = img[src + (i01[q] as number)] as number;
            const v10 = img[src + (i10[q] as number)] as number;
            const v11 = img[src + (i11[q] as number)] as number;
            const ax = wx[q] as number;
            const ay = wy[q] as number;
            const dwx = (1 - ay) * (v01 - v00) + ay * (v11 - v10);
            const dwy = (1 - ax) * (v10 - v00) + ax * (v11 - v01);
            acc += gq * (dwx * (dpx[q] as number) + dwy * (dpy[q] as number));
          }
        }
        d[kk] = acc;
      }
    },
  );
  return out!;
}

/** dImages[n, ·] = Σ_k the transposed resampling of dy[k, n, ·] (scatter-add of the 4 weights). */
function gradImages(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { dy, angles } = inputs as { dy: tf.TensorInfo; angles: tf.TensorInfo };
  const a = attrs as unknown as RotateBilinearAttrs;
  const k = angles.shape[0]!;
  const m = a.height * a.width;
  const n = dy.shape[1]!;
  const [out] = runJsKernel(
    GcviRotateBilinearGradImages,
    backendName,
    backend,
    [dy, angles],
    [[n, m]],
    (ins, outs) => {
      const g = ins[0]!;
      const th = ins[1]!;
      const d = outs[0]!;
      d.fill(0);
      const p = makePlan(m);
      for (let kk = 0; kk < k; kk++) {
        fillPlan(p, th[kk] as number, a.height, a.width);
        const { i00, i01, i10, i11, wx, wy } = p;
        for (let b = 0; b < n; b++) {
          const dst = b * m;
          const gy = (kk * n + b) * m;
          for (let q = 0; q < m; q++) {
            const gq = g[gy + q] as number;
            const ax = wx[q] as number;
            const ay = wy[q] as number;
            const t = (1 - ay) * gq;
            const u = ay * gq;
            const j00 = dst + (i00[q] as number);
            const j01 = dst + (i01[q] as number);
            const j10 = dst + (i10[q] as number);
            const j11 = dst + (i11[q] as number);
            d[j00] = (d[j00] as number) + (1 - ax) * t;
            d[j01] = (d[j01] as number) + ax * t;
            d[j10] = (d[j10] as number) + (1 - ax) * u;
            d[j11] = (d[j11] as number) + ax * u;
          }
        }
      }
    },
  );
  return out!;
}

function check(images: tf.Tensor, angles: tf.Tensor, h: number, w: number): void {
  if (images.rank !== 2 || images.shape[1] !== h * w)
    throw new ShapeError('images', `[N, ${h * w}]`, images.shape);
  if (angles.rank !== 1) throw new ShapeError('angles', '[K]', angles.shape);
}

/** Whether `rotateBilinear` runs as the fused kernel on the active backend. */
export function hasRotateBilinear(): boolean {
  return hasFusedKernel(GcviRotateBilinear);
}

/**
 * Rotate flattened images `[N, H·W]` by each of K angles `[K]` (radians, counterclockwise as
 * displayed) by bilinear resampling about the centre with border padding: `[K, N, H·W]`. One pass
 * per angle with the sampling plan (neighbour indices, weights, their θ-derivatives) computed once
 * and shared by all N images. Differentiable in the angles and the images (registered gradient
 * kernels; second derivatives are not registered). Only on wasm and cpu: callers check
 * `hasRotateBilinear()` and use their tf-op composition elsewhere.
 */
export function rotateBilinear(images: tf.Tensor, angles: tf.Tensor, h: number, w: number): tf.Tensor3D {
  check(images, angles, h, w);
  if (!hasRotateBilinear())
    throw new Error(`${GcviRotateBilinear} is not registered for backend '${tf.getBackend()}'`);
  const attrs: RotateBilinearAttrs = { height: h, width: w };
  return tf
    .engine()
    .runKernel(GcviRotateBilinear, { images, angles }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}

/** The rotation kernels on wasm and cpu (config values for register_all.ts). */
export const rotateBilinearKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(GcviRotateBilinear, forward),
  ...jsKernelConfigs(GcviRotateBilinearGradAngles, gradAngles),
  ...jsKernelConfigs(GcviRotateBilinearGradImages, gradImages),
];

/** Gradient of GcviRotateBilinear: each input's kernel runs only when tfjs asks for it. */
export const rotateBilinearGradConfig: tf.GradConfig = {
  kernelName: GcviRotateBilinear,
  inputsToSave: ['images', 'angles'],
  gradFunc: ((dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [images, angles] = saved as [tf.Tensor, tf.Tensor];
    return {
      images: () => tf.engine().runKernel(GcviRotateBilinearGradImages, { dy, angles }, attrs) as tf.Tensor,
      angles: () =>
        tf.engine().runKernel(GcviRotateBilinearGradAngles, { dy, images, angles }, attrs) as tf.Tensor,
    };
  }) as never,
};
