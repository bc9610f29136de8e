import type { Encoder, NamedTensors } from '@gcvi/encoders';
import { checkParams } from '@gcvi/encoders';
import { ConfigError, checkPositiveInt, NumericalError } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';
import { eigenvaluesByMagnitude } from './eigen.js';
import { type JacobianMethod, jacobian } from './jacobian.js';
import { gramRows } from './ntk.js';

export interface NtkTrackerOptions {
  readonly encoder: Encoder;
  /** Parameters at initialization (copied; the tensors may be disposed or trained afterwards). */
  readonly params0: NamedTensors;
  /** The fixed tracked inputs `[N, ...input]` (E1: 100 draws of x). */
  readonly x: tf.Tensor;
  /** Record every this many steps (used by the fit callback; `record` itself records any step). */
  readonly every: number;
  /** Jacobian method (default `auto`: closed form for dense encoders). */
  readonly method?: JacobianMethod;
}

/** One tracked step: means over the tracked inputs x. */
export interface NtkTrackerRow {
  readonly step: number;
  /** Mean over x of ‖J_t(x) − J_0(x)‖_F. */
  readonly jacobianDistance: number;
  /** Mean over x of ‖K_t(x, x) − K_0(x, x)‖_F, with K(x, x) = J(x) J(x)ᵀ (out × out). */
  readonly ntkDistance: number;
  /** Mean over x of |λ1| of K_t(x, x) − K_0(x, x) (largest magnitude). */
  readonly eig1: number;
  /** Mean over x of |λ2| (second largest magnitude); NaN when the encoder has one output. */
  readonly eig2: number;
  /** Mean over x of |λ_k| for every k (sorted by magnitude per x), length `out`. */
  readonly eigenvalues: readonly number[];
}

/** A fit callback (structurally an `EveryCallback` of `@gcvi/objectives`). */
export interface NtkTrackerCallback {
  readonly every: number;
  readonly atStart: true;
  fn(info: { readonly step: number; readonly params: Readonly<Record<string, tf.Tensor>> }): void;
}

export interface NtkTracker {
  readonly every: number;
  /** Number of tracked inputs N. */
  readonly numTracked: number;
  /** Rows recorded so far, in call order. */
  readonly rows: readonly NtkTrackerRow[];
  /** Compute and store the statistics at `step` for `params`. */
  record(step: number, params: NamedTensors): NtkTrackerRow;
  /**
   * An `EveryCallback` for `fit` (every `every` steps and once at step 0). `select` maps fit's
   * parameters to the encoder's (default: take the encoder's parameter names from them).
   */
  callback(options?: {
    select?: (params: Readonly<Record<string, tf.Tensor>>) => NamedTensors;
  }): NtkTrackerCallback;
}

/**
 * Tracks how far the Jacobian and the NTK move from their values at initialization during
 * training (the appendix figures of E1). All statistics are computed in float64 from the float32
 * Jacobians; the tracker keeps J_0 as a typed array and holds no tensors.
 */
export function ntkTracker(options: NtkTrackerOptions): NtkTracker {
  const { encoder, params0, x } = options;
  const every = checkPositiveInt('every', options.every);
  const method = options.method ?? 'auto';
  checkParams('params0', params0, encoder.paramSpecs);
  const jac = (params: NamedTensors) => {
    const j = jacobian(encoder, params, x, { method });
    try {
      return { shape: j.shape, data: j.dataSync() as Float32Array };
    } finally {
      j.dispose();
    }
  };
  const j0 = jac(params0);
  const [n, out, p] = j0.shape;
  const size = out * p;
  const k0: Float64Array[] = [];
  for (let i = 0; i < n; i++) k0.push(gramRows(j0.data.subarray(i * size, (i + 1) * size), out, p));
  const rows: NtkTrackerRow[] = [];

  function record(step: number, params: NamedTensors): NtkTrackerRow {
    if (!Number.isInteger(step) || step < 0) {
      throw new NumericalError('step', `must be a non-negative integer, got ${String(step)}`);
    }
    checkParams('params', params, encoder.paramSpecs);
    const jt = jac(params).data;
    let jd = 0;
    let nd = 0;
    const eig = new Float64Array(out);
    for (let i = 0; i < n; i++) {
      const rowT = jt.subarray(i * size, (i + 1) * size);
      let s = 0;
      for (let k = 0; k < size; k++) {
        const d = (rowT[k] as number) - (j0.data[i * size + k] as number);
        s += d * d;
      }
      jd += Math.sqrt(s);
      const kt = gramRows(rowT, out, p);
      const ki = k0[i] as Float64Array;
      const delta = new Float64Array(out * out);
      let f = 0;
      for (let k = 0; k < delta.length; k++) {
        const d = (kt[k] as number) - (ki[k] as number);
        delta[k] = d;
        f += d * d;
      }
      nd += Math.sqrt(f);
      const ev = eigenvaluesByMagnitude(delta, out);
      for (let k = 0; k < out; k++) eig[k] = (eig[k] as number) + Math.abs(ev[k] as number);
    }
    const eigenvalues = Array.from(eig, (v) => v / n);
    const row: NtkTrackerRow = {
      step,
      jacobianDistance: jd / n,
      ntkDistance: nd / n,
      eig1: eigenvalues[0] as number,
      eig2: out > 1 ? (eigenvalues[1] as number) : Number.NaN,
      eigenvalues,
    };
    rows.push(row);
    return row;
  }

  function defaultSelect(params: Readonly<Record<string, tf.Tensor>>): NamedTensors {
    const outParams: NamedTensors = {};
    for (const s of encoder.paramSpecs) {
      const t = params[s.name];
      if (t === undefined) {
        throw new ConfigError(
          `params.${s.name}`,
          `the NTK tracker needs the encoder parameter '${s.name}' among fit's parameters (pass select to map them)`,
        );
      }
      outParams[s.name] = t;
    }
    return outParams;
  }

  return {
    every,
    numTracked: n,
    rows,
    record,
    callback(cbOptions = {}) {
      const select = cbOptions.select ?? defaultSelect;
      return {
        every,
        atStart: true,
        fn(info) {
          record(info.step, select(info.params));
        },
      };
    },
  };
}
