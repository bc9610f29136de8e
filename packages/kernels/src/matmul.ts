import { ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';
import { sgemm } from './wasm/gemm.js';

/** Kernel name of the SIMD matrix product C = op(A) · op(B) (2-D, float32). */
export const GcviMatMul = 'GcviMatMul';

export interface GcviMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** [m, k, n] of op(A) · op(B), checked. */
export function matMulDims(
  a: readonly number[],
  b: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): [number, number, number] {
  if (a.length !== 2) throw new ShapeError('a', '[m, k]', a);
  if (b.length !== 2) throw new ShapeError('b', '[k, n]', b);
  const [m, k] = transposeA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = transposeB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (kb !== k) throw new ShapeError('b', `${transposeB ? `[n, ${k}]` : `[${k}, n]`} (inner size of a)`, b);
  return [m, k, n];
}

function forward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  const [m, k, n] = matMulDims(a.shape, b.shape, ta, tb);
  const [out] = runJsKernel(GcviMatMul, backendName, backend, [a, b], [[m, n]], (ins, outs) => {
    sgemm(ins[0]!, ins[1]!, outs[0]!, m, n, k, ta, tb);
  });
  return out!;
}

/**
 * C = op(A) · op(B) for 2-D float32 tensors with the cache-blocked SIMD GEMM of
 * src/wasm/gemm.wat on wasm and cpu (tfjs-backend-wasm 4.22's BatchMatMul runs at well under
 * 1 GFLOP/s on the transposed products of a backward pass); `tf.matMul` elsewhere. Differentiable
 * to any order (its gradient is made of matMuls).
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor2D {
  matMulDims(a.shape, b.shape, transposeA, transposeB);
  if (!hasFusedKernel(GcviMatMul) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);
  }
  const attrs: GcviMatMulAttrs = { transposeA, transposeB };
  return tf.engine().runKernel(GcviMatMul, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** Gradient of C = op(A) op(B): the usual four cases, as products of `matMul`. */
function matMulGrad(dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [a, b] = saved as [tf.Tensor, tf.Tensor];
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  return {
    a: () => (ta ? matMul(b, dy, tb, true) : matMul(dy, b, false, !tb)),
    b: () => (tb ? matMul(dy, a, true, ta) : matMul(a, dy, !ta, false)),
  };
}

/** GcviMatMul on wasm and cpu (config values for register_all.ts). */
export const matMulKernelConfigs: readonly tf.KernelConfig[] = jsKernelConfigs(GcviMatMul, forward);

/** Gradient of GcviMatMul (products of `matMul`: differentiable to any order). */
export const matMulGradConfig: tf.GradConfig = {
  kernelName: GcviMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: matMulGrad as never,
};
