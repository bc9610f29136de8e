import type * as tf from '@tensorflow/tfjs-core';
import { type FusedBackendName, jsKernelConfigs, type KernelInputs, runJsKernel } from './js_kernel.js';
import { pad4, simdFloats, simdModule } from './wasm/simd.js';

/**
 * Kernel name: one Adam step over N variables at once. Inputs `p{i}`, `g{i}`, `m{i}`, `v{i}`;
 * outputs [p0', m0', v0', p1', …, applied] where `applied` is a scalar 1 (step taken) or 0 (a
 * gradient held a NaN/±Inf and `skipNonFinite` was set: every output equals its input).
 * Attributes: `count` (N), `learningRate`, `beta1`, `beta2`, `epsilon`, `step` (t ≥ 1, for the bias
 * correction) and `skipNonFinite`. gcvi's Adam optimizer is `adam()` of `@gcvi/objectives`, which
 * runs this kernel on wasm and cpu.
 */
export const FusedAdamStep = 'GcviFusedAdamStep';

function kernel(
  backendName: FusedBackendName,
  backend: unknown,
  inputs: KernelInputs,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo[] {
  const n = attrs.count as number;
  const lr = attrs.learningRate as number;
  const b1 = attrs.beta1 as number;
  const b2 = attrs.beta2 as number;
  const eps = attrs.epsilon as number;
  const step = attrs.step as number;
  const skip = attrs.skipNonFinite as boolean;
  const ins: tf.TensorInfo[] = [];
  const shapes: number[][] = [];
  for (let i = 0; i < n; i++) {
    ins.push(inputs[`p${i}`], inputs[`g${i}`], inputs[`m${i}`], inputs[`v${i}`]);
    const s = inputs[`p${i}`].shape;
    shapes.push(s, s, s);
  }
  shapes.push([]);
  return runJsKernel(FusedAdamStep, backendName, backend, ins, shapes, (iv, ov) => {
    if (simdAdam(iv, ov, n, lr, b1, b2, eps, step, skip)) return;
    let finite = true;
    if (skip) {
      for (let i = 0; i < n && finite; i++) {
        const g = iv[4 * i + 1];
        for (let k = 0; k < g.length; k++) {
          if (!Number.isFinite(g[k])) {
            finite = false;
            break;
          }
        }
      }
    }
    if (!finite) {
      for (let i = 0; i < n; i++) {
        ov[3 * i].set(iv[4 * i]);
        ov[3 * i + 1].set(iv[4 * i + 2]);
        ov[3 * i + 2].set(iv[4 * i + 3]);
      }
      ov[3 * n][0] = 0;
      return;
    }
    // p ← p − lr · m̂ / (√v̂ + ε), m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t) (as tf.train.adam and torch.optim.Adam).
    const c1 = 1 / (1 - b1 ** step);
    const c2 = 1 / (1 - b2 ** step);
    for (let i = 0; i < n; i++) {
      const p = iv[4 * i];
      const g = iv[4 * i + 1];
      const m = iv[4 * i + 2];
      const v = iv[4 * i + 3];
      const po = ov[3 * i];
      const mo = ov[3 * i + 1];
      const vo = ov[3 * i + 2];
      for (let k = 0; k < p.length; k++) {
        const gk = g[k];
        const mk = b1 * m[k] + (1 - b1) * gk;
        const vk = b2 * v[k] + (1 - b2) * gk * gk;
        mo[k] = mk;
        vo[k] = vk;
        po[k] = p[k] - (lr * mk * c1) / (Math.sqrt(vk * c2) + eps);
      }
    }
    ov[3 * n][0] = 1;
  });
}

/**
 * The SIMD path: every variable's p, g, m, v laid out in four contiguous zero-padded regions of
 * the SIMD memory, one finiteness check over all gradients, one Adam sweep (float32 arithmetic).
 * Returns false when SIMD is unavailable.
 */
function simdAdam(
  iv: readonly Float32Array[],
  ov: readonly Float32Array[],
  n: number,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  step: number,
  skip: boolean,
): boolean {
  const m = simdModule();
  if (!m) return false;
  const offsets: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    offsets.push(total);
    total += pad4(iv[4 * i].length);
  }
  const mem = simdFloats(m, 4 * total);
  mem.fill(0, 0, 4 * total);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 4; r++) mem.set(iv[4 * i + r], r * total + offsets[i]);
  }
  const applied = !(skip && m.nonfinite(4 * total, total) === 1);
  if (applied) {
    m.adam(
      0,
      4 * total,
      8 * total,
      12 * total,
      total,
      b1,
      b2,
      lr / (1 - b1 ** step),
      1 / (1 - b2 ** step),
      eps,
    );
  }
  for (let i = 0; i < n; i++) {
    const len = iv[4 * i].length;
    const o = offsets[i];
    ov[3 * i].set(mem.subarray(o, o + len));
    ov[3 * i + 1].set(mem.subarray(2 * total + o, 2 * total + o + len));
    ov[3 * i + 2].set(mem.subarray(3 * total + o, 3 * total + o + len));
  }
  ov[3 * n][0] = applied ? 1 : 0;
  return true;
}

/** The fused Adam kernel on wasm and cpu (registered from `register_all.ts`). No gradient. */
export const fusedAdamKernelConfigs: readonly tf.KernelConfig[] = jsKernelConfigs(FusedAdamStep, kernel);
