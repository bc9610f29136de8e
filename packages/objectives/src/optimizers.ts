import { FusedAdamStep, hasFusedKernel } from '@gcvi/kernels';
import { ConfigError, checkFinite, checkPositive, type TensorData, tensorData } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/** A non-trainable variable of zeros shaped like `x` (the zeros tensor itself is not left behind). */
function zerosVariable(x: tf.Tensor): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zerosLike(x), false));
}

/** Optimizer state as named float32 tensors plus plain numbers: what a fit-state file stores. */
export interface OptimizerState {
  readonly scalars: Readonly<Record<string, number>>;
  readonly tensors: Readonly<Record<string, TensorData>>;
}

/**
 * A first-order optimizer over a fixed set of variables. `apply` receives gradients by parameter
 * name (missing names are left untouched, like parameters without a gradient in PyTorch) and
 * updates the variables in place.
 */
export interface Optimizer {
  readonly description: string;
  /** Allocate state for these variables (called once by `initFit`). */
  init(params: Readonly<Record<string, tf.Variable>>): void;
  /** One update with learning rate `lr`; gradients are multiplied by `gradScale` first (clipping). */
  apply(grads: Readonly<Record<string, tf.Tensor>>, lr: number, gradScale: number): void;
  /** A copy of the state (one synchronous read per tensor). */
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  /** Free the optimizer's tensors. */
  dispose(): void;
}

function restoreInto(field: string, target: tf.Variable, entry: TensorData | undefined): void {
  if (!entry) throw new ConfigError(field, 'missing from the saved state');
  if (entry.dtype !== 'float32') throw new ConfigError(field, `must be float32, got ${entry.dtype}`);
  if (entry.shape.join(',') !== target.shape.join(',')) {
    throw new ConfigError(
      field,
      `saved shape [${entry.shape.join(', ')}] differs from the parameter's [${target.shape.join(', ')}]`,
    );
  }
  tf.tidy(() => target.assign(tf.tensor(entry.values, target.shape, 'float32')));
}

function checkStepCount(t: unknown): number {
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) {
    throw new ConfigError('optimizer.state.t', `must be a non-negative integer, got ${String(t)}`);
  }
  return t;
}

export interface AdamOptions {
  /** Learning rate used when `fit` gets no schedule (default 1e-3). */
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /**
   * Use `@gcvi/kernels`' fused Adam kernel: `undefined` (default) where it is registered for the
   * current backend (wasm, cpu), `false` never (plain tfjs ops), `true` always (a ConfigError on a
   * backend without it).
   */
  readonly fused?: boolean;
}

/** An `Optimizer` that also carries a default learning rate for `fit`. */
export interface AdamOptimizer extends Optimizer {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/**
 * Adam (Kingma & Ba), as in PyTorch: with t the number of updates applied so far,
 * m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g², p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε).
 * Skipped steps (non-finite gradients) do not advance t. The state (m, v per parameter and t) is
 * exactly restorable, so a resumed run continues bit for bit.
 *
 * This is gcvi's one Adam. On the wasm and cpu backends the whole update (every parameter, both
 * moments, the bias correction) is one call of `@gcvi/kernels`' fused `FusedAdamStep` kernel;
 * elsewhere (or with `fused: false`) the same float32 operations, in the same order, as tfjs ops:
 * m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·(g·g), p' = p − (lr/(1−β1^t))·m' / (√((1/(1−β2^t))·v') + ε),
 * each constant rounded to float32 once. Both give the same numbers (tested bit for bit against the
 * kernel's SIMD path).
 */
export function adam(options: AdamOptions = {}): AdamOptimizer {
  const lr = options.lr ?? 1e-3;
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const eps = options.eps ?? 1e-8;
  checkPositive('adam.lr', lr);
  checkFinite('adam.beta1', beta1);
  checkFinite('adam.beta2', beta2);
  if (!(beta1 >= 0 && beta1 < 1)) throw new ConfigError('adam.beta1', `must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new ConfigError('adam.beta2', `must be in [0, 1), got ${beta2}`);
  checkPositive('adam.eps', eps);
  if (options.fused !== undefined && typeof options.fused !== 'boolean') {
    throw new ConfigError('adam.fused', `must be a boolean, got ${String(options.fused)}`);
  }

  let params: Readonly<Record<string, tf.Variable>> | undefined;
  let useKernel = false;
  const m: Record<string, tf.Variable> = {};
  const v: Record<string, tf.Variable> = {};
  let t = 0;
  /** β1, 1 − β1, β2, 1 − β2, ε as float32 scalars (1 − β is computed in float32, as the kernel does). */
  let consts: [tf.Scalar, tf.Scalar, tf.Scalar, tf.Scalar, tf.Scalar] | undefined;

  const ready = (): Readonly<Record<string, tf.Variable>> => {
    if (!params) throw new ConfigError('optimizer', 'init(params) must be called before use');
    return params;
  };

  return {
    description: `adam(lr=${lr}, beta1=${beta1}, beta2=${beta2}, eps=${eps})`,
    lr,
    beta1,
    beta2,
    eps,
    init(p) {
      if (params) throw new ConfigError('optimizer', 'this optimizer is already in use; create one per fit');
      const available = hasFusedKernel(FusedAdamStep);
      if (options.fused === true && !available) {
        throw new ConfigError(
          'adam.fused',
          `the fused Adam kernel is not registered for backend '${tf.getBackend()}' (it is for wasm and cpu)`,
        );
      }
      useKernel = options.fused ?? available;
      params = p;
      const f = Math.fround;
      consts = [
        tf.scalar(beta1),
        tf.scalar(f(1 - f(beta1))),
        tf.scalar(beta2),
        tf.scalar(f(1 - f(beta2))),
        tf.scalar(eps),
      ];
      for (const [name, variable] of Object.entries(p)) {
        m[name] = zerosVariable(variable);
        v[name] = zerosVariable(variable);
      }
    },
    apply(grads, stepLr, gradScale) {
      const p = ready();
      for (const name of Object.keys(grads)) {
        if (!p[name]) throw new ConfigError('grads', `no parameter named '${name}'`);
      }
      t += 1;
      const names = Object.keys(grads);
      tf.tidy(() => {
        const g = (name: string) => (gradScale === 1 ? grads[name]! : tf.mul(grads[name]!, gradScale));
        if (useKernel) {
          const inputs: tf.NamedTensorMap = {};
          names.forEach((name, i) => {
            inputs[`p${i}`] = p[name]!;
            inputs[`g${i}`] = g(name);
            inputs[`m${i}`] = m[name]!;
            inputs[`v${i}`] = v[name]!;
          });
          const attrs = { learningRate: stepLr, beta1, beta2, epsilon: eps, step: t, count: names.length };
          const outs = tf
            .engine()
            .runKernel(FusedAdamStep, inputs, { ...attrs, skipNonFinite: false }) as tf.Tensor[];
          names.forEach((name, i) => {
            p[name]!.assign(outs[3 * i]!);
            m[name]!.assign(outs[3 * i + 1]!);
            v[name]!.assign(outs[3 * i + 2]!);
          });
          return;
        }
        const [b1, b1c, b2, b2c, epsT] = consts!;
        const lrc1 = tf.scalar(stepLr / (1 - beta1 ** t));
        const c2 = tf.scalar(1 / (1 - beta2 ** t));
        for (const name of names) {
          const gi = g(name);
          const mNew = tf.add(tf.mul(b1, m[name]!), tf.mul(b1c, gi));
          const vNew = tf.add(tf.mul(b2, v[name]!), tf.mul(b2c, tf.mul(gi, gi)));
          const step = tf.div(tf.mul(lrc1, mNew), tf.add(tf.sqrt(tf.mul(c2, vNew)), epsT));
          p[name]!.assign(tf.sub(p[name]!, step));
          m[name]!.assign(mNew);
          v[name]!.assign(vNew);
        }
      });
    },
    getState() {
      ready();
      const tensors: Record<string, TensorData> = {};
      for (const name of Object.keys(m)) {
        tensors[`m/${name}`] = tensorData(m[name]!);
        tensors[`v/${name}`] = tensorData(v[name]!);
      }
      return { scalars: { t }, tensors };
    },
    setState(state) {
      ready();
      const st = checkStepCount(state.scalars.t);
      for (const name of Object.keys(m)) {
        restoreInto(`optimizer.state.m/${name}`, m[name]!, state.tensors[`m/${name}`]);
        restoreInto(`optimizer.state.v/${name}`, v[name]!, state.tensors[`v/${name}`]);
      }
      t = st;
    },
    dispose() {
      for (const x of [...Object.values(m), ...Object.values(v), ...(consts ?? [])]) x.dispose();
      consts = undefined;
    },
  };
}

export interface SgdOptions {
  /** Learning rate used when `fit` gets no schedule (default 1e-2). */
  readonly lr?: number;
  /** Heavy-ball momentum μ in [0, 1) (default 0: plain gradient descent). */
  readonly momentum?: number;
}

export interface SgdOptimizer extends Optimizer {
  readonly lr: number;
  readonly momentum: number;
}

/**
 * (Stochastic) gradient descent, as in PyTorch: with momentum μ, b ← μ b + g (b = g at the first
 * update), p ← p − lr · b; without momentum p ← p − lr · g. Plain gradient descent is what the NTK
 * theory describes, so this is the optimizer to compare a network with its kernel prediction.
 */
export function sgd(options: SgdOptions = {}): SgdOptimizer {
  const lr = options.lr ?? 1e-2;
  const momentum = options.momentum ?? 0;
  checkPositive('sgd.lr', lr);
  checkFinite('sgd.momentum', momentum);
  if (!(momentum >= 0 && momentum < 1))
    throw new ConfigError('sgd.momentum', `must be in [0, 1), got ${momentum}`);
  let params: Readonly<Record<string, tf.Variable>> | undefined;
  const buf: Record<string, tf.Variable> = {};
  let t = 0;
  const ready = (): Readonly<Record<string, tf.Variable>> => {
    if (!params) throw new ConfigError('optimizer', 'init(params) must be called before use');
    return params;
  };
  return {
    description: `sgd(lr=${lr}, momentum=${momentum})`,
    lr,
    momentum,
    init(p) {
      if (params) throw new ConfigError('optimizer', 'this optimizer is already in use; create one per fit');
      params = p;
      if (momentum > 0) for (const [name, v] of Object.entries(p)) buf[name] = zerosVariable(v);
    },
    apply(grads, stepLr, gradScale) {
      const p = ready();
      t += 1;
      tf.tidy(() => {
        const lrT = tf.scalar(stepLr * gradScale);
        const mu = tf.scalar(momentum);
        for (const [name, g] of Object.entries(grads)) {
          const variable = p[name];
          if (!variable) throw new ConfigError('grads', `no parameter named '${name}'`);
          if (momentum === 0) {
            variable.assign(tf.sub(variable, tf.mul(lrT, g)));
            continue;
          }
          // The buffer accumulates the clipped gradient.
          const gs = gradScale === 1 ? g : tf.mul(g, gradScale);
          const b = buf[name]!;
          const bNew = t === 1 ? gs : tf.add(tf.mul(mu, b), gs);
          variable.assign(tf.sub(variable, tf.mul(stepLr, bNew)));
          b.assign(bNew);
        }
      });
    },
    getState() {
      ready();
      const tensors: Record<string, TensorData> = {};
      for (const [name, b] of Object.entries(buf)) tensors[`b/${name}`] = tensorData(b);
      return { scalars: { t }, tensors };
    },
    setState(state) {
      ready();
      const st = checkStepCount(state.scalars.t);
      for (const [name, b] of Object.entries(buf))
        restoreInto(`optimizer.state.b/${name}`, b, state.tensors[`b/${name}`]);
      t = st;
    },
    dispose() {
      for (const b of Object.values(buf)) b.dispose();
    },
  };
}
