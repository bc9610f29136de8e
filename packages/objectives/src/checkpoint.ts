import {
  ConfigError,
  FileFormatError,
  GcviError,
  type RngState,
  readTensorFile,
  type TensorData,
  tensorData,
  writeTensorFile,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { checkNewest, markNewest } from './fit-state.js';
import type { FitHistory, FitState, Params } from './fit-types.js';
import type { OptimizerState } from './optimizers.js';

/**
 * The `kind` of a fit-state tensor file (`@gcvi/runtime`'s format). Tensors: `param/<name>`
 * (float32), `optim/<key>` (the optimizer's tensors, e.g. `optim/m/<name>`), `history/step` (int32),
 * `history/loss` (float32; losses are float32 values). Meta: `step`, `skippedSteps`,
 * `nonFiniteInARow`, `objective`, `rng` ({ batch, loss } stream positions), `optimizer`
 * ({ description, scalars }), `schedule` (its description), `steps` (the run's total) and `user`
 * (the caller's free-form meta). With tail averaging (`FitSetup.average`) also `average/<name>`
 * (float32, the running mean) and meta `averageFrom`. `history.lr` is not stored: it is recomputed from the schedule,
 * which is a pure function of the step.
 */
export const FIT_STATE_KIND = 'gcvi/fit-state';

/** The plain values of a saved fit state (no tensors), as `readFitStateInfo` returns them. */
export interface FitStateInfo {
  /** Steps completed. */
  readonly step: number;
  readonly skippedSteps: number;
  readonly nonFiniteInARow: number;
  readonly objective: string;
  readonly rng: { readonly batch: RngState; readonly loss: RngState };
  readonly optimizer: { readonly description: string; readonly scalars: Readonly<Record<string, number>> };
  readonly schedule: string;
  /** Total steps of the run that saved it. */
  readonly steps: number;
  /** The free-form meta given to `saveFitState` (`checkpoint.meta` in `fit`). */
  readonly user: Readonly<Record<string, unknown>>;
  /** `FitSetup.average.from` of the run that saved it; absent when it kept no tail mean. */
  readonly averageFrom?: number;
}

export interface SaveFitStateOptions {
  /** Free-form JSON stored with the state (e.g. the run id). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * Save a run's newest state (parameters, optimizer state, counters, stream positions, loss
 * history) to a fit-state tensor file, atomically. `loadFitState` continues the run from it bit for
 * bit (same backend).
 */
export function saveFitState<P extends Params>(
  path: string,
  state: FitState<P>,
  options: SaveFitStateOptions = {},
): void {
  checkNewest(state, 'saveFitState');
  const run = state.run;
  const tensors: Record<string, TensorData> = {};
  for (const n of run.paramNames) tensors[`param/${n}`] = tensorData(run.params[n]!);
  const os = run.optimizer.getState();
  for (const [k, d] of Object.entries(os.tensors)) tensors[`optim/${k}`] = d;
  if (run.average) for (const n of run.paramNames) tensors[`average/${n}`] = tensorData(run.average.vars[n]!);
  const h = state.history;
  tensors['history/step'] = { dtype: 'int32', shape: [h.step.length], values: Int32Array.from(h.step) };
  tensors['history/loss'] = { dtype: 'float32', shape: [h.loss.length], values: Float32Array.from(h.loss) };
  const info: FitStateInfo = {
    step: state.step,
    skippedSteps: state.skippedSteps,
    nonFiniteInARow: state.nonFiniteInARow,
    objective: run.objective.name,
    rng: state.rng,
    optimizer: { description: run.optimizer.description, scalars: os.scalars },
    schedule: run.schedule.description ?? 'custom schedule',
    steps: run.steps,
    user: options.meta ?? {},
    ...(run.average ? { averageFrom: run.average.from } : {}),
  };
  if (typeof info.user !== 'object' || info.user === null || Array.isArray(info.user)) {
    throw new ConfigError('meta', 'must be a plain object');
  }
  writeTensorFile(path, { kind: FIT_STATE_KIND, meta: info as unknown as Record<string, unknown>, tensors });
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRngState = (v: unknown): v is RngState =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as RngState).key === 'string' &&
  Array.isArray((v as RngState).s) &&
  (v as RngState).s.length === 4;

function infoFrom(path: string, meta: Readonly<Record<string, unknown>>): FitStateInfo {
  const m = meta as Partial<FitStateInfo>;
  const bad = (field: string, what: string) => new FileFormatError(path, `meta.${field}: ${what}`);
  for (const f of ['step', 'skippedSteps', 'nonFiniteInARow', 'steps'] as const) {
    if (!isCount(m[f])) throw bad(f, 'must be a non-negative integer');
  }
  if (typeof m.objective !== 'string') throw bad('objective', 'must be a string');
  if (typeof m.schedule !== 'string') throw bad('schedule', 'must be a string');
  if (!m.rng || !isRngState(m.rng.batch) || !isRngState(m.rng.loss))
    throw bad('rng', 'missing stream positions');
  if (
    !m.optimizer ||
    typeof m.optimizer.description !== 'string' ||
    typeof m.optimizer.scalars !== 'object' ||
    m.optimizer.scalars === null
  ) {
    throw bad('optimizer', 'must be { description, scalars }');
  }
  if (typeof m.user !== 'object' || m.user === null) throw bad('user', 'must be an object');
  if (m.averageFrom !== undefined && !isCount(m.averageFrom))
    throw bad('averageFrom', 'must be a non-negative integer');
  return m as FitStateInfo;
}

/** The plain values of a fit-state file, without loading its tensors into a run. */
export function readFitStateInfo(path: string): FitStateInfo {
  return infoFrom(path, readTensorFile(path, { kind: FIT_STATE_KIND }).meta);
}

/**
 * Continue a run from a fit-state file: `init` is a fresh state of the same setup (from
 * `initFit`); the file's parameters, optimizer state, counters, stream positions and history are
 * put into it and the resulting state returned (`init` is no longer the newest). The file must
 * belong to this setup: same objective, same parameter names and shapes, the optimizer's state
 * layout, and a step within the run's `steps`; otherwise a FileFormatError names the file and the
 * difference.
 */
export function loadFitState<P extends Params>(path: string, init: FitState<P>): FitState<P> {
  checkNewest(init, 'loadFitState');
  const run = init.run;
  const file = readTensorFile(path, { kind: FIT_STATE_KIND });
  const info = infoFrom(path, file.meta);
  if (info.objective !== run.objective.name) {
    throw new FileFormatError(
      path,
      `saved state is of objective '${info.objective}', this run uses '${run.objective.name}'`,
    );
  }
  if (info.step > run.steps) {
    throw new FileFormatError(
      path,
      `saved state is at step ${info.step}, beyond this run's ${run.steps} steps`,
    );
  }
  const saved = Object.keys(file.tensors)
    .filter((k) => k.startsWith('param/'))
    .map((k) => k.slice(6));
  const missing = run.paramNames.filter((n) => !saved.includes(n));
  const extra = saved.filter((n) => !run.paramNames.includes(n));
  if (missing.length || extra.length) {
    throw new FileFormatError(
      path,
      `parameters differ from this run's (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'})`,
    );
  }
  for (const n of run.paramNames) {
    const d = file.tensors[`param/${n}`]!;
    const v = run.params[n]!;
    if (d.dtype !== 'float32' || d.shape.join(',') !== v.shape.join(',')) {
      throw new FileFormatError(
        path,
        `param '${n}' is ${d.dtype} [${d.shape.join(', ')}], this run's is float32 [${v.shape.join(', ')}]`,
      );
    }
  }
  const from = run.average?.from;
  if (info.averageFrom !== from) {
    const says = (f: number | undefined) => (f === undefined ? 'no tail average' : `average.from ${f}`);
    throw new FileFormatError(path, `saved state has ${says(info.averageFrom)}, this run has ${says(from)}`);
  }
  if (run.average) {
    for (const n of run.paramNames) {
      const d = file.tensors[`average/${n}`];
      const v = run.params[n]!;
      if (d?.dtype !== 'float32' || d.shape.join(',') !== v.shape.join(',')) {
        throw new FileFormatError(
          path,
          `average/${n} missing or not float32 [${v.shape.join(', ')}] (the run's tail mean)`,
        );
      }
    }
  }
  const hs = file.tensors['history/step'];
  const hl = file.tensors['history/loss'];
  if (!hs || !hl || hs.dtype !== 'int32' || hl.dtype !== 'float32' || hs.values.length !== hl.values.length) {
    throw new FileFormatError(
      path,
      'history/step (int32) and history/loss (float32) missing or of different lengths',
    );
  }
  const optim: Record<string, TensorData> = {};
  for (const [k, d] of Object.entries(file.tensors)) if (k.startsWith('optim/')) optim[k.slice(6)] = d;
  const optimizerState: OptimizerState = { scalars: info.optimizer.scalars, tensors: optim };
  try {
    run.optimizer.setState(optimizerState);
  } catch (e) {
    if (e instanceof GcviError)
      throw new FileFormatError(path, `optimizer state: ${e.message}`, { cause: e });
    throw e;
  }
  for (const n of run.paramNames) {
    const d = file.tensors[`param/${n}`]!;
    const v = run.params[n]!;
    tf.tidy(() => v.assign(tf.tensor(d.values, v.shape, 'float32')));
  }
  if (run.average) {
    for (const n of run.paramNames) {
      const d = file.tensors[`average/${n}`]!;
      const m = run.average.vars[n]!;
      tf.tidy(() => m.assign(tf.tensor(d.values, m.shape, 'float32')));
    }
  }
  const steps = Array.from(hs.values);
  const history: FitHistory = {
    step: steps,
    loss: Array.from(hl.values),
    lr: steps.map((s) => run.schedule.lr(s - 1)),
  };
  return markNewest({
    run,
    step: info.step,
    skippedSteps: info.skippedSteps,
    nonFiniteInARow: info.nonFiniteInARow,
    rng: { batch: info.rng.batch, loss: info.rng.loss },
    last: null,
    history,
    params: init.params,
  });
}

// ---- Compatibility with the earlier checkpoint API (same file, old shapes) ----

/** @deprecated use `readFitStateInfo` (or `loadFitState`). An array of a fit-state file. */
export interface SavedArray {
  readonly shape: readonly number[];
  readonly values: Float32Array | Float64Array;
}

/** @deprecated use `FitStateInfo`. */
export interface CheckpointState {
  readonly step: number;
  readonly skippedSteps: number;
  readonly nonFiniteInARow: number;
  readonly objective: string;
  readonly rng: Readonly<Record<string, RngState>>;
  readonly optimizer: { readonly description: string; readonly scalars: Readonly<Record<string, number>> };
  /** `{ schedule, ...checkpoint.meta }`. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** @deprecated use `readFitStateInfo`. */
export interface CheckpointData {
  readonly state: CheckpointState;
  readonly arrays: Readonly<Record<string, SavedArray>>;
}

/**
 * @deprecated use `readFitStateInfo(path)` (sync, no tensors) or `loadFitState`. Reads a fit-state
 * file written by `fit`'s checkpoints in the earlier `{ state, arrays }` shape; int32 arrays come
 * back as Float64Array.
 */
export async function readCheckpoint(path: string): Promise<CheckpointData> {
  const file = readTensorFile(path, { kind: FIT_STATE_KIND });
  const info = infoFrom(path, file.meta);
  const arrays: Record<string, SavedArray> = {};
  for (const [k, d] of Object.entries(file.tensors)) {
    arrays[k] = {
      shape: d.shape,
      values: d.dtype === 'int32' ? Float64Array.from(d.values) : (d.values as Float32Array),
    };
  }
  return {
    state: {
      step: info.step,
      skippedSteps: info.skippedSteps,
      nonFiniteInARow: info.nonFiniteInARow,
      objective: info.objective,
      rng: info.rng,
      optimizer: info.optimizer,
      meta: { schedule: info.schedule, ...info.user },
    },
    arrays,
  };
}
