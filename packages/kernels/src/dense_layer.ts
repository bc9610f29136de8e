import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { hasFusedKernel, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';
import { matMul, matMulDims } from './matmul.js';
import { sgemm } from './wasm/gemm.js';

/** Kernel name of the fused dense layer y = act(x · op(W) + b). */
export const GcviDenseLayer = 'GcviDenseLayer';
/** Kernel name of its activation backward: (dy, y) → dy ⊙ act′, from the layer's output. */
export const GcviDenseActivationGrad = 'GcviDenseActivationGrad';

export const DENSE_ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'tanh'] as const;
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

export interface DenseLayerOptions {
  /** Default 'linear'. */
  readonly activation?: DenseActivation;
  /** Negative slope of 'leakyRelu' (≥ 0; default 0.2 as tf.leakyRelu). */
  readonly alpha?: number;
  /** W is stored `[out, in]` (PyTorch's nn.Linear layout) instead of `[in, out]`. */
  readonly transposeW?: boolean;
}

interface Attrs {
  activation: DenseActivation;
  alpha: number;
  transposeW: boolean;
}

/** y ← act(y + b) in place, rows of n. */
function biasActivation(
  y: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  act: DenseActivation,
  alpha: number,
) {
  for (let i = 0; i < m; i++) {
    const o = i * n;
    if (act === 'linear') for (let j = 0; j < n; j++) y[o + j] = (y[o + j] as number) + (b[j] as number);
    else if (act === 'relu') {
      for (let j = 0; j < n; j++) {
        const v = (y[o + j] as number) + (b[j] as number);
        y[o + j] = Math.max(v, 0);
      }
    } else if (act === 'leakyRelu') {
      for (let j = 0; j < n; j++) {
        const v = (y[o + j] as number) + (b[j] as number);
        y[o + j] = v > 0 ? v : alpha * v;
      }
    } else for (let j = 0; j < n; j++) y[o + j] = Math.tanh((y[o + j] as number) + (b[j] as number));
  }
}

function forward(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { x, w, b } = inputs as { x: tf.TensorInfo; w: tf.TensorInfo; b: tf.TensorInfo };
  const a = attrs as unknown as Attrs;
  const [m, k, n] = matMulDims(x.shape, w.shape, false, a.transposeW);
  const [out] = runJsKernel(GcviDenseLayer, backendName, backend, [x, w, b], [[m, n]], (ins, outs) => {
    const y = outs[0]!;
    sgemm(ins[0]!, ins[1]!, y, m, n, k, false, a.transposeW);
    biasActivation(y, ins[2]!, m, n, a.activation, a.alpha);
  });
  return out!;
}

/**
 * dy ⊙ act′(pre) from the output y: relu 1[y > 0], leakyRelu 1[y > 0] or α (y > 0 ⇔ pre > 0 for
 * α ≥ 0; at pre = 0 both give tf's choice, 0 for relu and α for leakyRelu), tanh 1 − y².
 */
function activationGrad(
  backendName: 'wasm' | 'cpu',
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
) {
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  const a = attrs as unknown as Attrs;
  const [out] = runJsKernel(
    GcviDenseActivationGrad,
    backendName,
    backend,
    [dy, y],
    [y.shape],
    (ins, outs) => {
      const g = ins[0]!;
      const yv = ins[1]!;
      const d = outs[0]!;
      const len = d.length;
      if (a.activation === 'linear') d.set(g.subarray(0, len));
      else if (a.activation === 'relu')
        for (let i = 0; i < len; i++) d[i] = (yv[i] as number) > 0 ? (g[i] as number) : 0;
      else if (a.activation === 'leakyRelu') {
        const al = a.alpha;
        for (let i = 0; i < len; i++) d[i] = (yv[i] as number) > 0 ? (g[i] as number) : al * (g[i] as number);
      } else {
        for (let i = 0; i < len; i++) {
          const t = yv[i] as number;
          d[i] = (g[i] as number) * (1 - t * t);
        }
      }
    },
  );
  return out!;
}

function resolve(options: DenseLayerOptions): Attrs {
  const activation = options.activation ?? 'linear';
  if (!DENSE_ACTIVATIONS.includes(activation)) {
    throw new ConfigError(
      'activation',
      `must be one of ${DENSE_ACTIVATIONS.join(', ')}, got ${String(activation)}`,
    );
  }
  const alpha = options.alpha ?? 0.2;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new ConfigError('alpha', `must be a finite number ≥ 0, got ${String(alpha)}`);
  }
  return { activation, alpha, transposeW: options.transposeW === true };
}

function check(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, t: boolean): number {
  const [, , n] = matMulDims(x.shape, w.shape, false, t);
  if (b.rank !== 1 || b.shape[0] !== n) throw new ShapeError('b', `[${n}]`, b.shape);
  for (const [name, v] of [
    ['x', x],
    ['w', w],
    ['b', b],
  ] as const) {
    if (v.dtype !== 'float32') throw new ConfigError(name, `denseLayer needs float32, got ${v.dtype}`);
  }
  return n;
}

/** The same layer with plain tfjs ops: the reference the kernel is tested against, and the fallback. */
export function denseLayerPlain(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
  options: DenseLayerOptions = {},
): tf.Tensor2D {
  const a = resolve(options);
  check(x, w, b, a.transposeW);
  return tf.tidy(() => {
    const pre = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, a.transposeW), b);
    if (a.activation === 'relu') return tf.relu(pre);
    if (a.activation === 'leakyRelu') return tf.leakyRelu(pre, a.alpha);
    if (a.activation === 'tanh') return tf.tanh(pre);
    return pre;
  }) as tf.Tensor2D;
}

/**
 * One dense layer y = act(x · W + b) (W `[in, out]`, or `[out, in]` with `transposeW`) as one
 * kernel on wasm and cpu: the SIMD GEMM with bias and activation applied in the same pass over
 * the output. Its gradient (registered) computes dy ⊙ act′ from the saved output, then
 * dx = g Wᵀ and dW = xᵀ g with the SIMD GEMM (`matMul`) and db = Σ g; tfjs only evaluates the
 * gradients that are needed (no dx for a constant input). Other backends get `denseLayerPlain`.
 *
 * @param x `[batch, in]`
 * @returns `[batch, out]`
 */
export function denseLayer(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
  options: DenseLayerOptions = {},
): tf.Tensor2D {
  const a = resolve(options);
  check(x, w, b, a.transposeW);
  if (!hasFusedKernel(GcviDenseLayer)) return denseLayerPlain(x, w, b, options);
  return tf.engine().runKernel(GcviDenseLayer, { x, w, b }, a as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

function denseGrad(dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x, w, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
  const a = attrs as unknown as Attrs;
  const g =
    a.activation === 'linear'
      ? dy
      : (tf.engine().runKernel(GcviDenseActivationGrad, { dy, y }, attrs) as tf.Tensor);
  return {
    x: () => matMul(g, w, false, !a.transposeW),
    w: () => (a.transposeW ? matMul(g, x, true, false) : matMul(x, g, true, false)),
    b: () => tf.sum(g, 0),
  };
}

/** GcviDenseLayer and GcviDenseActivationGrad on wasm and cpu (config values for register_all.ts). */
export const denseLayerKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(GcviDenseLayer, forward),
  ...jsKernelConfigs(GcviDenseActivationGrad, activationGrad),
];

/** Gradient of GcviDenseLayer: g = dy ⊙ act′ from the saved output, then dx, dW by `matMul`, db = Σ g. */
export const denseLayerGradConfig: tf.GradConfig = {
  kernelName: GcviDenseLayer,
  inputsToSave: ['x', 'w'],
  outputsToSave: [true],
  gradFunc: denseGrad as never,
};

/**
 * Gradient of GcviDenseActivationGrad: g = dy ⊙ act′(y) is linear in dy (same kernel) and, for
 * tanh, −2 y dy in y (act′ = 1 − y²); relu / leakyRelu / linear have act′ piecewise constant in y.
 * So double VJPs work through the layer.
 */
export const denseActivationGradGradConfig: tf.GradConfig = {
  kernelName: GcviDenseActivationGrad,
  inputsToSave: ['dy', 'y'],
  gradFunc: ((up: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [dy, y] = saved as [tf.Tensor, tf.Tensor];
    const a = attrs as unknown as Attrs;
    return {
      dy: () => tf.engine().runKernel(GcviDenseActivationGrad, { dy: up, y }, attrs) as tf.Tensor,
      y: () => (a.activation === 'tanh' ? tf.mul(-2, tf.mul(tf.mul(y, dy), up)) : tf.zerosLike(y)),
    };
  }) as never,
};
