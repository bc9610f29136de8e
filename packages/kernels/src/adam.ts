import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import {
  type FusedBackendName,
  hasFusedKernel,
  jsKernelConfigs,
  type KernelInputs,
  runJsKernel,
} from './js_kernel.js';
import { pad4, simdFloats, simdModule } from './wasm/simd.js';

/**
 * Kernel name: one Adam step over N variables at once. Inputs `p{i}`, `g{i}`, `m{i}`, `v{i}`;
 * outputs [p0', m0', v0', p1', …, applied] where `applied` is a scalar 1 (step taken) or 0 (a
 * gradient held a NaN/±Inf and `skipNonFinite` was set: every output equals its input).
 */
export const FusedAdamStep = 'GcviFusedAdamStep';

export interface AdamConfig {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Skip the whole step (no variable moves, moments unchanged) when any gradient is not finite. */
  skipNonFinite?: boolean;
}

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

/** The same update with plain tfjs ops (reference for tests; fallback on other backends). */
function plainStep(
  params: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  ms: readonly tf.Tensor[],
  vs: readonly tf.Tensor[],
  a: Required<AdamConfig> & { step: number },
): { params: tf.Tensor[]; ms: tf.Tensor[]; vs: tf.Tensor[]; applied: boolean } {
  const finite =
    !a.skipNonFinite || grads.every((g) => tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0] === 1));
  if (!finite) {
    return {
      params: params.map((p) => tf.clone(p)),
      ms: ms.map((m) => tf.clone(m)),
      vs: vs.map((v) => tf.clone(v)),
      applied: false,
    };
  }
  const c1 = 1 / (1 - a.beta1 ** a.step);
  const c2 = 1 / (1 - a.beta2 ** a.step);
  const out = { params: [] as tf.Tensor[], ms: [] as tf.Tensor[], vs: [] as tf.Tensor[], applied: true };
  params.forEach((p, i) => {
    const [np, nm, nv] = tf.tidy(() => {
      const m = tf.add(tf.mul(ms[i], a.beta1), tf.mul(grads[i], 1 - a.beta1));
      const v = tf.add(tf.mul(vs[i], a.beta2), tf.mul(tf.square(grads[i]), 1 - a.beta2));
      const upd = tf.div(tf.mul(m, a.learningRate * c1), tf.add(tf.sqrt(tf.mul(v, c2)), a.epsilon));
      return [tf.sub(p, upd), m, v];
    });
    out.params.push(np);
    out.ms.push(nm);
    out.vs.push(nv);
  });
  return out;
}

/**
 * Adam over a fixed list of variables, the whole update (all variables, moments, bias
 * correction, optional skip-on-non-finite check) in one fused kernel on wasm and cpu. The
 * learning rate may change every step (schedules). Moments are tensors owned by the optimizer.
 */
export class FusedAdam {
  readonly variables: readonly tf.Variable[];
  private readonly m: tf.Tensor[];
  private readonly v: tf.Tensor[];
  private readonly cfg: Required<AdamConfig>;
  /** Steps taken (skipped steps do not count, as with torch's step counter). */
  iterations = 0;
  /** Steps skipped because a gradient was not finite. */
  skipped = 0;

  constructor(variables: readonly tf.Variable[], config: AdamConfig) {
    if (variables.length === 0) throw new ConfigError('variables', 'needs at least one variable');
    this.cfg = {
      learningRate: config.learningRate,
      beta1: config.beta1 ?? 0.9,
      beta2: config.beta2 ?? 0.999,
      epsilon: config.epsilon ?? 1e-8,
      skipNonFinite: config.skipNonFinite ?? false,
    };
    checkConfig(this.cfg);
    this.variables = variables.slice();
    this.m = variables.map((x) => tf.keep(tf.zerosLike(x)));
    this.v = variables.map((x) => tf.keep(tf.zerosLike(x)));
  }

  get learningRate(): number {
    return this.cfg.learningRate;
  }

  set learningRate(lr: number) {
    checkConfig({ ...this.cfg, learningRate: lr });
    this.cfg.learningRate = lr;
  }

  /**
   * Apply one step. `grads[i]` (array) or `grads[variable.name]` (map, as from tf.variableGrads)
   * is the gradient of variable i. Returns false when the step was skipped (non-finite gradient
   * with `skipNonFinite`). The gradient tensors are not disposed.
   */
  applyGradients(grads: readonly tf.Tensor[] | tf.NamedTensorMap): boolean {
    const gs = Array.isArray(grads)
      ? (grads as readonly tf.Tensor[])
      : this.variables.map((x) => (grads as tf.NamedTensorMap)[x.name]);
    if (gs.length !== this.variables.length) {
      throw new ConfigError('grads', `expected ${this.variables.length} gradients, got ${gs.length}`);
    }
    gs.forEach((g, i) => {
      if (!g) throw new ConfigError('grads', `no gradient for variable '${this.variables[i].name}'`);
      if (!tf.util.arraysEqual(g.shape, this.variables[i].shape)) {
        throw new ShapeError(`grads[${i}]`, `[${this.variables[i].shape.join(', ')}]`, g.shape);
      }
    });
    const step = this.iterations + 1;
    const n = this.variables.length;
    let newP: tf.Tensor[];
    let newM: tf.Tensor[];
    let newV: tf.Tensor[];
    let applied: boolean;
    if (hasFusedKernel(FusedAdamStep)) {
      const inputs: tf.NamedTensorMap = {};
      for (let i = 0; i < n; i++) {
        inputs[`p${i}`] = this.variables[i];
        inputs[`g${i}`] = gs[i];
        inputs[`m${i}`] = this.m[i];
        inputs[`v${i}`] = this.v[i];
      }
      const outs = tf.engine().runKernel(FusedAdamStep, inputs, {
        ...this.cfg,
        step,
        count: n,
      }) as tf.Tensor[];
      newP = [];
      newM = [];
      newV = [];
      for (let i = 0; i < n; i++) {
        newP.push(outs[3 * i]);
        newM.push(outs[3 * i + 1]);
        newV.push(outs[3 * i + 2]);
      }
      const flag = outs[3 * n];
      applied = flag.dataSync()[0] === 1;
      flag.dispose();
    } else {
      ({
        params: newP,
        ms: newM,
        vs: newV,
        applied,
      } = plainStep(this.variables, gs, this.m, this.v, {
        ...this.cfg,
        step,
      }));
    }
    for (let i = 0; i < n; i++) {
      this.variables[i].assign(newP[i]);
      newP[i].dispose();
      this.m[i].dispose();
      this.v[i].dispose();
      this.m[i] = tf.keep(newM[i]);
      this.v[i] = tf.keep(newV[i]);
    }
    if (applied) this.iterations++;
    else this.skipped++;
    return applied;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

function checkConfig(c: Required<AdamConfig>): void {
  if (!(c.learningRate >= 0) || !Number.isFinite(c.learningRate)) {
    throw new ConfigError('learningRate', `must be a finite number ≥ 0, got ${c.learningRate}`);
  }
  if (!(c.beta1 >= 0 && c.beta1 < 1)) throw new ConfigError('beta1', `must be in [0, 1), got ${c.beta1}`);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) throw new ConfigError('beta2', `must be in [0, 1), got ${c.beta2}`);
  if (!(c.epsilon > 0)) throw new ConfigError('epsilon', `must be > 0, got ${c.epsilon}`);
}
