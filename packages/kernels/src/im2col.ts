import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';

/** Kernel name of im2col: NHWC `[N, H, W, C]` → patches `[N·Ho·Wo, kh·kw·C]` ('valid', stride s). */
export const GcviIm2Col = 'GcviIm2Col';
/** Kernel name of its adjoint col2im: patches → `[N, H, W, C]`, overlapping patches summed. */
export const GcviCol2Im = 'GcviCol2Im';

export interface Im2ColAttrs {
  kh: number;
  kw: number;
  stride: number;
  /** The image shape [N, H, W, C] (col2im needs it; im2col checks it). */
  imageShape: number[];
}

function outSize(h: number, k: number, s: number): number {
  return Math.floor((h - k) / s) + 1;
}

/** Visit every (patch row, column) ↔ image offset pair: `f(colOffset, imageOffset, length)` copies C floats. */
function forEachPatch(a: Im2ColAttrs, f: (col: number, img: number, len: number) => void): void {
  const [n, h, w, c] = a.imageShape as [number, number, number, number];
  const { kh, kw, stride } = a;
  const ho = outSize(h, kh, stride);
  const wo = outSize(w, kw, stride);
  const kc = kw * c; // one kernel row of the patch is contiguous in the image: kw·C floats
  const k = kh * kc;
  let col = 0;
  for (let b = 0; b < n; b++) {
    const base = b * h * w * c;
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          f(col + ky * kc, base + ((oy * stride + ky) * w + ox * stride) * c, kc);
        }
        col += k;
      }
    }
  }
}

function im2colKernel(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const a = attrs as unknown as Im2ColAttrs;
  const [n, h, w, c] = a.imageShape as [number, number, number, number];
  const rows = n * outSize(h, a.kh, a.stride) * outSize(w, a.kw, a.stride);
  const [out] = runJsKernel(
    GcviIm2Col,
    backendName,
    backend,
    [inputs.x!],
    [[rows, a.kh * a.kw * c]],
    (ins, outs) => {
      const x = ins[0]!;
      const p = outs[0]!;
      forEachPatch(a, (col, img, len) => {
        for (let i = 0; i < len; i++) p[col + i] = x[img + i] as number;
      });
    },
  );
  return out!;
}

function col2imKernel(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const a = attrs as unknown as Im2ColAttrs;
  const [out] = runJsKernel(GcviCol2Im, backendName, backend, [inputs.cols!], [a.imageShape], (ins, outs) => {
    const p = ins[0]!;
    const x = outs[0]!;
    x.fill(0);
    forEachPatch(a, (col, img, len) => {
      for (let i = 0; i < len; i++) x[img + i] = (x[img + i] as number) + (p[col + i] as number);
    });
  });
  return out!;
}

function attrsFor(shape: readonly number[], kh: number, kw: number, stride: number): Im2ColAttrs {
  if (shape.length !== 4) throw new ShapeError('x', '[N, H, W, C]', shape);
  for (const [name, v] of [
    ['kh', kh],
    ['kw', kw],
    ['stride', stride],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `must be a positive integer, got ${v}`);
  }
  if (shape[1]! < kh || shape[2]! < kw) throw new ShapeError('x', `[N, ≥ ${kh}, ≥ ${kw}, C]`, shape);
  return { kh, kw, stride, imageShape: [...shape] };
}

/** Plain tfjs im2col (a convolution with a one-hot filter): the reference and the fallback. */
export function im2colPlain(x: tf.Tensor4D, kh: number, kw: number, stride: number): tf.Tensor2D {
  const a = attrsFor(x.shape, kh, kw, stride);
  const [n, h, w, c] = x.shape;
  const k = kh * kw * c;
  const eye = new Float32Array(k * k);
  for (let i = 0; i < k; i++) eye[i * k + i] = 1;
  return tf.tidy(() => {
    const filter = tf.tensor4d(eye, [kh, kw, c, k]);
    const rows = n * outSize(h, a.kh, stride) * outSize(w, a.kw, stride);
    return tf.reshape(tf.conv2d(x, filter, stride, 'valid'), [rows, k]) as tf.Tensor2D;
  });
}

/**
 * im2col patches of an NHWC batch for a `kh×kw` 'valid' convolution with stride `s`:
 * `[N, H, W, C]` → `[N·Ho·Wo, kh·kw·C]`, column (ky·kw + kx)·C + c (the row-major order of a
 * `[kh, kw, C, Co]` filter), so a convolution is `im2col(x) · reshape(filter, [kh·kw·C, Co])`.
 * One copy pass on wasm and cpu; its gradient is `col2im` and col2im's is `im2col`, so it is
 * differentiable to any order. Other backends get `im2colPlain`.
 */
export function im2col(x: tf.Tensor4D, kh: number, kw: number, stride: number): tf.Tensor2D {
  const a = attrsFor(x.shape, kh, kw, stride);
  if (x.dtype !== 'float32') throw new ConfigError('x', `im2col needs float32, got ${x.dtype}`);
  if (!hasFusedKernel(GcviIm2Col)) return im2colPlain(x, kh, kw, stride);
  return tf.engine().runKernel(GcviIm2Col, { x }, a as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** The adjoint of `im2col`: patches `[N·Ho·Wo, kh·kw·C]` → `[N, H, W, C]` (sums overlaps). */
export function col2im(
  cols: tf.Tensor,
  imageShape: readonly number[],
  kh: number,
  kw: number,
  stride: number,
): tf.Tensor4D {
  const a = attrsFor(imageShape, kh, kw, stride);
  const [n, h, w, c] = imageShape as [number, number, number, number];
  const rows = n * outSize(h, kh, stride) * outSize(w, kw, stride);
  if (cols.rank !== 2 || cols.shape[0] !== rows || cols.shape[1] !== kh * kw * c) {
    throw new ShapeError('cols', `[${rows}, ${kh * kw * c}]`, cols.shape);
  }
  if (!hasFusedKernel(GcviCol2Im)) {
    // The adjoint through autodiff of the plain im2col: vjp of a linear map.
    return tf.tidy(() => {
      const g = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(im2colPlain(x as tf.Tensor4D, kh, kw, stride), cols)),
      );
      return g(tf.zeros(imageShape as number[])) as tf.Tensor4D;
    });
  }
  return tf.engine().runKernel(GcviCol2Im, { cols }, a as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** GcviIm2Col and GcviCol2Im on wasm and cpu (config values for register_all.ts). */
export const im2colKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(GcviIm2Col, im2colKernel),
  ...jsKernelConfigs(GcviCol2Im, col2imKernel),
];

/** im2col's gradient is col2im and col2im's is im2col (an adjoint pair: any order). */
export const im2colGradConfigs: readonly tf.GradConfig[] = [
  {
    kernelName: GcviIm2Col,
    gradFunc: (dy, _saved, attrs) => {
      const a = attrs as unknown as Im2ColAttrs;
      return { x: () => col2im(dy as tf.Tensor, a.imageShape, a.kh, a.kw, a.stride) };
    },
  },
  {
    kernelName: GcviCol2Im,
    gradFunc: (dy, _saved, attrs) => {
      const a = attrs as unknown as Im2ColAttrs;
      return { cols: () => im2col(dy as tf.Tensor4D, a.kh, a.kw, a.stride) };
    },
  },
];
