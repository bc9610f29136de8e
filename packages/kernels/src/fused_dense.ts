import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import {
  type FusedBackendName,
  gradViaKernel,
  hasFusedKernel,
  jsKernelConfigs,
  type KernelInputs,
  runJsKernel,
} from './js_kernel.js';
import { pad4, simdFloats, simdModule } from './wasm/simd.js';

/** Kernel name of the fused NTK dense forward pass: y = relu(x W1) W2 · scale. */
export const FusedNtkDense = 'GcviFusedNtkDense';
/** Kernel name of its backward pass: (dy, x, W1, W2) → (dx, dW1, dW2). */
export const FusedNtkDenseGrad = 'GcviFusedNtkDenseGrad';

export interface FusedNtkDenseAttrs {
  /** Output multiplier; the NTK parameterization uses 1/√width. */
  scale: number;
}

function dims(x: tf.TensorInfo, w1: tf.TensorInfo, w2: tf.TensorInfo) {
  return { batch: x.shape[0], nIn: x.shape[1], width: w1.shape[1], nOut: w2.shape[1] };
}

/**
 * The E1 shape (2 inputs, 2 outputs), unrolled: one tight loop over hidden units per example,
 * branch-free ReLU (Math.max: a 50/50 sign pattern would defeat branch prediction).
 */
function forward22(
  xv: Float32Array,
  w1v: Float32Array,
  w2v: Float32Array,
  y: Float32Array,
  batch: number,
  width: number,
  scale: number,
): void {
  const m = simdModule();
  if (m) {
    // Rows of W1 and de-interleaved columns of W2, zero-padded to a multiple of 4 (a zero weight
    // gives relu(0) = 0: padding changes nothing).
    const wp = pad4(width);
    const mem = simdFloats(m, 4 * wp + 4);
    loadDense22(mem, w1v, w2v, width, wp);
    const out = 4 * wp;
    for (let b = 0; b < batch; b++) {
      m.dense22_fwd(xv[2 * b], xv[2 * b + 1], 0, 4 * wp, 8 * wp, 12 * wp, wp, 4 * out);
      y[2 * b] = mem[out] * scale;
      y[2 * b + 1] = mem[out + 1] * scale;
    }
    return;
  }
  for (let b = 0; b < batch; b++) {
    const x0 = xv[2 * b];
    const x1 = xv[2 * b + 1];
    let a0 = 0;
    let a1 = 0;
    for (let j = 0; j < width; j++) {
      const h = Math.max(x0 * w1v[j] + x1 * w1v[width + j], 0);
      a0 += h * w2v[2 * j];
      a1 += h * w2v[2 * j + 1];
    }
    y[2 * b] = a0 * scale;
    y[2 * b + 1] = a1 * scale;
  }
}

/** Copy W1's two rows and W2's two columns to the SIMD memory at 0, wp, 2wp, 3wp (zero-padded). */
function loadDense22(
  mem: Float32Array,
  w1v: Float32Array,
  w2v: Float32Array,
  width: number,
  wp: number,
): void {
  mem.set(w1v.subarray(0, width), 0);
  mem.set(w1v.subarray(width, 2 * width), wp);
  const c = 2 * wp;
  const d = 3 * wp;
  for (let j = 0; j < width; j++) {
    mem[c + j] = w2v[2 * j];
    mem[d + j] = w2v[2 * j + 1];
  }
  if (wp > width) for (const base of [0, wp, c, d]) mem.fill(0, base + width, base + wp);
}

/**
 * Backward for the E1 shape (2 inputs, 2 outputs): SIMD when available (float32 accumulation over
 * the batch), else an unrolled branch-free scalar loop (float64 accumulation); see `backward`.
 * Writes dx, dW1 and dW2.
 */
function backward22Dispatch(
  dyv: Float32Array,
  xv: Float32Array,
  w1v: Float32Array,
  w2v: Float32Array,
  dx: Float32Array,
  dw1: Float32Array,
  dw2: Float32Array,
  batch: number,
  width: number,
  scale: number,
): void {
  const m = simdModule();
  if (m) {
    const wp = pad4(width);
    const mem = simdFloats(m, 8 * wp + 4);
    loadDense22(mem, w1v, w2v, width, wp);
    mem.fill(0, 4 * wp, 8 * wp);
    const out = 8 * wp;
    for (let b = 0; b < batch; b++) {
      m.dense22_bwd(
        xv[2 * b],
        xv[2 * b + 1],
        dyv[2 * b] * scale,
        dyv[2 * b + 1] * scale,
        0,
        4 * wp,
        8 * wp,
        12 * wp,
        16 * wp,
        20 * wp,
        24 * wp,
        28 * wp,
        wp,
        4 * out,
      );
      dx[2 * b] = mem[out];
      dx[2 * b + 1] = mem[out + 1];
    }
    dw1.set(mem.subarray(4 * wp, 4 * wp + width), 0);
    dw1.set(mem.subarray(5 * wp, 5 * wp + width), width);
    const c = 6 * wp;
    const d = 7 * wp;
    for (let j = 0; j < width; j++) {
      dw2[2 * j] = mem[c + j];
      dw2[2 * j + 1] = mem[d + j];
    }
    return;
  }
  const gw1 = new Float64Array(2 * width);
  const gw2 = new Float64Array(2 * width);
  backward22(dyv, xv, w1v, w2v, dx, gw1, gw2, batch, width, scale);
  for (let k = 0; k < gw1.length; k++) dw1[k] = gw1[k];
  for (let k = 0; k < gw2.length; k++) dw2[k] = gw2[k];
}

/** Backward for the E1 shape (2 inputs, 2 outputs), unrolled and branch-free; see `backward`. */
function backward22(
  dyv: Float32Array,
  xv: Float32Array,
  w1v: Float32Array,
  w2v: Float32Array,
  dx: Float32Array,
  gw1: Float64Array,
  gw2: Float64Array,
  batch: number,
  width: number,
  scale: number,
): void {
  for (let b = 0; b < batch; b++) {
    const x0 = xv[2 * b];
    const x1 = xv[2 * b + 1];
    const d0 = dyv[2 * b] * scale;
    const d1 = dyv[2 * b + 1] * scale;
    let dx0 = 0;
    let dx1 = 0;
    for (let j = 0; j < width; j++) {
      const wa = w1v[j];
      const wb = w1v[width + j];
      const pre = x0 * wa + x1 * wb;
      const h = Math.max(pre, 0);
      const on = pre > 0 ? 1 : 0;
      gw2[2 * j] += h * d0;
      gw2[2 * j + 1] += h * d1;
      const g = on * (d0 * w2v[2 * j] + d1 * w2v[2 * j + 1]);
      gw1[j] += x0 * g;
      gw1[width + j] += x1 * g;
      dx0 += g * wa;
      dx1 += g * wb;
    }
    dx[2 * b] = dx0;
    dx[2 * b + 1] = dx1;
  }
}

/** Forward: one pass per example; the hidden row lives in a scratch buffer, never in a tensor. */
function forward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const { x, w1, w2 } = inputs;
  const scale = attrs.scale as number;
  const { batch, nIn, width, nOut } = dims(x, w1, w2);
  const [out] = runJsKernel(
    FusedNtkDense,
    backendName,
    backend,
    [x, w1, w2],
    [[batch, nOut]],
    (ins, outs) => {
      const [xv, w1v, w2v] = ins;
      const y = outs[0];
      if (nIn === 2 && nOut === 2) {
        forward22(xv, w1v, w2v, y, batch, width, scale);
        return;
      }
      const h = new Float64Array(width);
      const acc = new Float64Array(nOut);
      for (let b = 0; b < batch; b++) {
        h.fill(0);
        for (let i = 0; i < nIn; i++) {
          const xi = xv[b * nIn + i];
          const row = i * width;
          for (let j = 0; j < width; j++) h[j] += xi * w1v[row + j];
        }
        acc.fill(0);
        for (let j = 0; j < width; j++) {
          const hj = Math.max(h[j], 0);
          for (let o = 0; o < nOut; o++) acc[o] += hj * w2v[j * nOut + o];
        }
        for (let o = 0; o < nOut; o++) y[b * nOut + o] = acc[o] * scale;
      }
    },
  );
  return out;
}

/**
 * Backward, closed form, one pass over (example, hidden unit) with the hidden pre-activation
 * recomputed: with h = x W1, a = relu(h), g = scale · (dy W2ᵀ) ⊙ 1[h > 0]:
 * dW2 = scale · aᵀ dy, dW1 = xᵀ g, dx = g W1ᵀ. Accumulated in float64.
 */
function backward(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo[] {
  const { dy, x, w1, w2 } = inputs;
  const scale = attrs.scale as number;
  const { batch, nIn, width, nOut } = dims(x, w1, w2);
  return runJsKernel(
    FusedNtkDenseGrad,
    backendName,
    backend,
    [dy, x, w1, w2],
    [
      [batch, nIn],
      [nIn, width],
      [width, nOut],
    ],
    (ins, outs) => {
      const [dyv, xv, w1v, w2v] = ins;
      const [dx, dw1, dw2] = outs;
      if (nIn === 2 && nOut === 2) {
        backward22Dispatch(dyv, xv, w1v, w2v, dx, dw1, dw2, batch, width, scale);
        return;
      }
      const gw1 = new Float64Array(nIn * width);
      const gw2 = new Float64Array(width * nOut);
      const h = new Float64Array(width);
      const dxb = new Float64Array(nIn);
      const dys = new Float64Array(nOut);
      for (let b = 0; b < batch; b++) {
        h.fill(0);
        for (let i = 0; i < nIn; i++) {
          const xi = xv[b * nIn + i];
          const row = i * width;
          for (let j = 0; j < width; j++) h[j] += xi * w1v[row + j];
        }
        for (let o = 0; o < nOut; o++) dys[o] = dyv[b * nOut + o] * scale;
        // g_j = Σ_o dys_o W2[j, o] where h_j > 0.
        for (let j = 0; j < width; j++) {
          const hj = h[j];
          if (hj > 0) {
            let g = 0;
            for (let o = 0; o < nOut; o++) {
              gw2[j * nOut + o] += hj * dys[o];
              g += dys[o] * w2v[j * nOut + o];
            }
            h[j] = g;
          } else h[j] = 0;
        }
        dxb.fill(0);
        for (let i = 0; i < nIn; i++) {
          const xi = xv[b * nIn + i];
          const row = i * width;
          let s = 0;
          for (let j = 0; j < width; j++) {
            const g = h[j];
            gw1[row + j] += xi * g;
            s += g * w1v[row + j];
          }
          dxb[i] = s;
        }
        for (let i = 0; i < nIn; i++) dx[b * nIn + i] = dxb[i];
      }
      for (let k = 0; k < gw1.length; k++) dw1[k] = gw1[k];
      for (let k = 0; k < gw2.length; k++) dw2[k] = gw2[k];
    },
  );
}

/** The forward and backward kernels on wasm and cpu (registered from `register_all.ts`). */
export const fusedNtkDenseKernelConfigs: readonly tf.KernelConfig[] = [
  ...jsKernelConfigs(FusedNtkDense, forward),
  ...jsKernelConfigs(FusedNtkDenseGrad, backward),
];

/** Gradient of the forward kernel: the fused backward kernel. */
export const fusedNtkDenseGradConfig: tf.GradConfig = gradViaKernel(FusedNtkDense, FusedNtkDenseGrad, [
  'x',
  'w1',
  'w2',
]);

/**
 * Gradient of the backward kernel, in plain differentiable tfjs ops, so the fused layer can be
 * differentiated twice (double-VJP Jacobian–vector products, gradients of input gradients).
 * With h = x W1, M = 1[h > 0], a = relu(h), s = scale, the backward kernel computes
 * G = s (dy W2ᵀ) ⊙ M, dx = G W1ᵀ, dW1 = xᵀ G, dW2 = s aᵀ dy. Given cotangents (gdx, gdW1, gdW2) and
 * with gG = x gdW1 + gdx W1 (the cotangent of G) and H = s (dy gdW2ᵀ) ⊙ M (that of h through a):
 * d/d dy = s (a gdW2 + (gG ⊙ M) W2), d/dx = H W1ᵀ + G gdW1ᵀ, d/dW1 = xᵀ H + gdxᵀ G,
 * d/dW2 = s (gG ⊙ M)ᵀ dy. ReLU's second derivative is zero almost everywhere (M is constant).
 */
export const fusedNtkDenseGradGradConfig: tf.GradConfig = {
  kernelName: FusedNtkDenseGrad,
  inputsToSave: ['dy', 'x', 'w1', 'w2'],
  gradFunc: (g: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [gdx, gdw1, gdw2] = g as tf.Tensor2D[];
    const [dy, x, w1, w2] = saved as tf.Tensor2D[];
    const s = (attrs as unknown as FusedNtkDenseAttrs).scale;
    const h = tf.matMul(x, w1);
    const mask = tf.step(h);
    const a = tf.relu(h);
    const gMat = tf.mul(tf.mul(tf.matMul(dy, w2, false, true), mask), s); // G
    const gG = tf.mul(tf.add(tf.matMul(x, gdw1), tf.matMul(gdx, w1)), mask); // gG ⊙ M
    const hBar = tf.mul(tf.mul(tf.matMul(dy, gdw2, false, true), mask), s); // H
    return {
      dy: () => tf.mul(tf.add(tf.matMul(a, gdw2), tf.matMul(gG, w2)), s),
      x: () => tf.add(tf.matMul(hBar, w1, false, true), tf.matMul(gMat, gdw1, false, true)),
      w1: () => tf.add(tf.matMul(x, hBar, true, false), tf.matMul(gdx, gMat, true, false)),
      w2: () => tf.mul(tf.matMul(gG, dy, true, false), s),
    };
  },
};

function check(x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor): void {
  if (x.rank !== 2) throw new ShapeError('x', '[batch, in]', x.shape);
  if (w1.rank !== 2 || w1.shape[0] !== x.shape[1]) {
    throw new ShapeError('w1', `[${x.shape[1]}, width]`, w1.shape);
  }
  if (w2.rank !== 2 || w2.shape[0] !== w1.shape[1]) {
    throw new ShapeError('w2', `[${w1.shape[1]}, out]`, w2.shape);
  }
  for (const [name, t] of [
    ['x', x],
    ['w1', w1],
    ['w2', w2],
  ] as const) {
    if (t.dtype !== 'float32') throw new ConfigError(name, `fusedDense needs float32, got ${t.dtype}`);
  }
}

/**
 * The same function with plain tfjs ops: relu(x W1) W2 · scale. The reference the fused kernel
 * is tested against, and the fallback on backends without the fused kernel.
 */
export function fusedDensePlain(x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, scale?: number): tf.Tensor2D {
  check(x, w1, w2);
  const s = scale ?? 1 / Math.sqrt(w1.shape[1] as number);
  return tf.tidy(() =>
    tf.mul(tf.matMul(tf.relu(tf.matMul(x as tf.Tensor2D, w1 as tf.Tensor2D)), w2 as tf.Tensor2D), s),
  );
}

/**
 * One-hidden-layer ReLU network without biases in the NTK parameterization,
 * y = relu(x W1) W2 · scale (scale defaults to 1/√width), as one fused kernel on wasm and cpu with
 * a closed-form gradient registered for tf.grad. Other backends get the plain composition.
 *
 * @param x  `[batch, in]`
 * @param w1 `[in, width]`
 * @param w2 `[width, out]`
 * @returns  `[batch, out]`
 */
export function fusedDense(x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, scale?: number): tf.Tensor2D {
  check(x, w1, w2);
  const s = scale ?? 1 / Math.sqrt(w1.shape[1] as number);
  if (!Number.isFinite(s)) throw new ConfigError('scale', `must be finite, got ${s}`);
  if (!hasFusedKernel(FusedNtkDense)) return fusedDensePlain(x, w1, w2, s);
  const attrs: FusedNtkDenseAttrs = { scale: s };
  return tf
    .engine()
    .runKernel(FusedNtkDense, { x, w1, w2 }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}
