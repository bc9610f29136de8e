import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';
import { fillPlan, makePlan } from './rotate_bilinear.js';

/**
 * Kernel name of the Gaussian log-likelihood of observed images under K rotations of fixed
 * images: ll_k = Σ_{n, q} log Normal(x[n, q]; rotate(images[n], θ_k)[q], sd²) → `[K]`, without
 * materializing the `[K, N, H·W]` rotated copies (E4's ELBO with K = 1,000 would need 314 MB per
 * intermediate).
 */
export const GcviRotatedNormalLogLik = 'GcviRotatedNormalLogLik';
/**
 * Its gradient: (up [K], images, angles, x) → d images, d angles or d x (attr `which`: each is
 * computed only when tfjs asks for it).
 */
export const GcviRotatedNormalLogLikGrad = 'GcviRotatedNormalLogLikGrad';

interface Attrs {
  height: number;
  width: number;
  sd: number;
  which?: 'images' | 'angles' | 'x';
}

function forward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { images, angles, x } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as Attrs;
  const n = images!.shape[0]!;
  const m = a.height * a.width;
  const k = angles!.shape[0]!;
  const c0 = n * m * (-0.5 * Math.log(2 * Math.PI) - Math.log(a.sd));
  const inv = 1 / (a.sd * a.sd);
  const [out] = runJsKernel(
    GcviRotatedNormalLogLik,
    backendName,
    backend,
    [images!, angles!, x!],
    [[k]],
    (ins, outs) => {
      const [img, th, xv] = ins as [Float32Array, Float32Array, Float32Array];
      const ll = outs[0]!;
      const p = makePlan(m);
      for (let kk = 0; kk < k; kk++) {
        fillPlan(p, th[kk] as number, a.height, a.width);
        const { i00, i01, i10, i11, wx, wy } = p;
        let ss = 0;
        for (let b = 0; b < n; b++) {
          const src = b * m;
          for (let q = 0; q < m; q++) {
            const ax = wx[q] as number;
            const ay = wy[q] as number;
            const top =
              (1 - ax) * (img[src + (i00[q] as number)] as number) +
              ax * (img[src + (i01[q] as number)] as number);
            const bot =
              (1 - ax) * (img[src + (i10[q] as number)] as number) +
              ax * (img[src + (i11[q] as number)] as number);
            const r = (xv[src + q] as number) - ((1 - ay) * top + ay * bot);
            ss += r * r;
          }
        }
        ll[kk] = c0 - 0.5 * inv * ss;
      }
    },
  );
  return out!;
}

/**
 * With r = x − R_k(img): ∂ll_k/∂θ_k = Σ (r / sd²) ∂R_k/∂θ; ∂/∂img = Σ_k up_k · Rᵀ(r / sd²);
 * ∂/∂x = −Σ_k up_k r / sd². One pass per angle recomputing the resampling.
 */
function backward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { up, images, angles, x } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as Attrs;
  const n = images!.shape[0]!;
  const m = a.height * a.width;
  const k = angles!.shape[0]!;
  const inv = 1 / (a.sd * a.sd);
  return runJsKernel(
    GcviRotatedNormalLogLikGrad,
    backendName,
    backend,
    [up!, images!, angles!, x!],
    [a.which === 'angles' ? [k] : images!.shape],
    (ins, outs) => {
      const [u, img, th, xv] = ins as [Float32Array, Float32Array, Float32Array, Float32Array];
      const wantImg = a.which === 'images';
      const wantX = a.which === 'x';
      const o = outs[0]!;
      const dImg = wantImg ? o : null;
      const dX = wantX ? o : null;
      const dTh = a.which === 'angles' ? o : null;
      if (!dTh) o.fill(0);
      const p = makePlan(m);
      for (let kk = 0; kk < k; kk++) {
        const uk = u[kk] as number;
        fillPlan(p, th[kk] as number, a.height, a.width);
        const { i00, i01, i10, i11, wx, wy, dpx, dpy } = p;
        let dt = 0;
        for (let b = 0; b < n; b++) {
          const src = b * m;
          for (let q = 0; q < m; q++) {
            const j00 = src + (i00[q] as number);
            const j01 = src + (i01[q] as number);
            const j10 = src + (i10[q] as number);
            const j11 = src + (i11[q] as number);
            const v00 = img[j00] as number;
            const v01 = img[j01] as number;
            const v10 = img[j10] as number;
            const v11 = img[j11] as number;
            const ax = wx[q] as number;
            const ay = wy[q] as number;
            const rot = (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11);
            const g = inv * ((xv[src + q] as number) - rot); // ∂ll/∂rot
            const dwx = (1 - ay) * (v01 - v00) + ay * (v11 - v10);
            const dwy = (1 - ax) * (v10 - v00) + ax * (v11 - v01);
            if (dTh) {
              dt += g * (dwx * (dpx[q] as number) + dwy * (dpy[q] as number));
              continue;
            }
            const ug = uk * g;
            if (dX) {
              dX[src + q] = (dX[src + q] as number) - ug;
              continue;
            }
            if (!dImg) continue;
            const t = (1 - ay) * ug;
            const s = ay * ug;
            dImg[j00] = (dImg[j00] as number) + (1 - ax) * t;
            dImg[j01] = (dImg[j01] as number) + ax * t;
            dImg[j10] = (dImg[j10] as number) + (1 - ax) * s;
            dImg[j11] = (dImg[j11] as number) + ax * s;
          }
        }
        if (dTh) dTh[kk] = uk * dt;
      }
    },
  );
}

/** Whether `rotatedNormalLogLik` runs as the fused kernel on the active backend. */
export function hasRotatedNormalLogLik(): boolean {
  return hasFusedKernel(GcviRotatedNormalLogLik);
}

/**
 * Σ_{n, q} log Normal(x[n, q]; rotate(images[n], θ_k)[q], sd²) for each of K angles: images and x
 * `[N, H·W]`, angles `[K]` → `[K]`, differentiable in all three (registered gradient kernel). The
 * rotation is `rotateBilinear`'s (bilinear, border padding). Only on wasm and cpu: callers check
 * `hasRotatedNormalLogLik()` and use their tf-op composition elsewhere.
 */
export function rotatedNormalLogLik(
  images: tf.Tensor,
  angles: tf.Tensor,
  x: tf.Tensor,
  sd: number,
  h: number,
  w: number,
): tf.Tensor1D {
  if (images.rank !== 2 || images.shape[1] !== h * w)
    throw new ShapeError('images', `[N, ${h * w}]`, images.shape);
  if (angles.rank !== 1) throw new ShapeError('angles', '[K]', angles.shape);
  if (x.rank !== 2 || x.shape[0] !== images.shape[0] || x.shape[1] !== h * w) {
    throw new ShapeError('x', `[${images.shape[0]}, ${h * w}]`, x.shape);
  }
  if (!(sd > 0) || !Number.isFinite(sd)) throw new ConfigError('sd', `must be positive, got ${sd}`);
  if (!hasRotatedNormalLogLik()) {
    throw new Error(`${GcviRotatedNormalLogLik} is not registered for backend '${tf.getBackend()}'`);
  }
  const attrs: Attrs = { height: h, width: w, sd };
  return tf
    .engine()
    .runKernel(
      GcviRotatedNormalLogLik,
      { images, angles, x },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor1D;
}

/** The log-likelihood kernels on wasm and cpu (config values for register_all.ts). */
export const rotatedNormalLogLikKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(GcviRotatedNormalLogLik, forward),
  ...jsKernelConfigs(GcviRotatedNormalLogLikGrad, backward),
];

/** Gradient of GcviRotatedNormalLogLik: one pass of the grad kernel per input tfjs asks for. */
export const rotatedNormalLogLikGradConfig: tf.GradConfig = {
  kernelName: GcviRotatedNormalLogLik,
  inputsToSave: ['images', 'angles', 'x'],
  gradFunc: ((up: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [images, angles, x] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const grad = (which: 'images' | 'angles' | 'x') => {
      const r = tf
        .engine()
        .runKernel(GcviRotatedNormalLogLikGrad, { up, images, angles, x }, { ...attrs, which });
      return Array.isArray(r) ? (r[0] as tf.Tensor) : (r as tf.Tensor);
    };
    return { images: () => grad('images'), angles: () => grad('angles'), x: () => grad('x') };
  }) as never,
};
