import { existsSync } from 'node:fs';
import type {
  AnyObjective,
  Batch,
  Objective,
  Problem,
  VariationalDistribution,
} from '@gcvi/objective-contract';
import {
  ConfigError,
  checkPositive,
  checkPositiveInt,
  FileFormatError,
  NumericalError,
  type Rng,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { type CheckpointData, readCheckpoint, type SavedArray, writeCheckpoint } from './checkpoint.js';
import { registry as defaultRegistry } from './defaults.js';
import { adam, type Optimizer } from './optimizers.js';
import type { ObjectiveRegistry } from './registry.js';
import { constantLr, type Schedule } from './schedules.js';

/** Trainable parameters by name: encoder weights and any parameters of the problem itself. */
export type Params = Readonly<Record<string, tf.Variable>>;

/** What step callbacks receive. */
export interface StepInfo {
  /** Steps completed, counting this one (1-based). */
  readonly step: number;
  /** Total steps of the run. */
  readonly steps: number;
  /** Loss of this step (before the update); non-finite when the step was skipped. */
  readonly loss: number;
  /** Learning rate used (or that would have been used) at this step. */
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Whether this step was skipped because the loss or a gradient was not finite. */
  readonly skipped: boolean;
  /** Skipped steps so far, over the whole run (including before a resume). */
  readonly skippedSteps: number;
  /** The live parameters after this step: read them, do not assign or dispose them. */
  readonly params: Params;
}

/** A callback run every `every` steps (when `step % every === 0`), e.g. a metric or a tracker. */
export interface EveryCallback {
  readonly every: number;
  /** Also run once before the first step of a fresh (not resumed) run, with step 0 and loss NaN. */
  readonly atStart?: boolean;
  fn(info: StepInfo): void | Promise<void>;
}

export interface ProgressInfo {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** Steps per second in this call of `fit`. */
  readonly rate: number;
  readonly etaSeconds: number;
  readonly skippedSteps: number;
}

export interface FitCallbacks {
  /** After every step. */
  onStep?(info: StepInfo): void | Promise<void>;
  every?: readonly EveryCallback[];
  /** Every `progressEvery` steps (default 100) and after the last step. */
  onProgress?(p: ProgressInfo): void;
  progressEvery?: number;
}

export interface CheckpointOptions {
  /** File to write (atomically; overwritten each time). */
  readonly path: string;
  /** Steps between checkpoints; one is also written after the last step. */
  readonly every: number;
  /** Free-form JSON stored in the checkpoint (e.g. the run id). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface FitOptions<P extends Params = Params> {
  /** All trainable variables (float32, trainable): encoder parameters and problem parameters. */
  readonly params: P;
  /** Builds q(θ | x) from the current parameters; must use only `params` (and constants). */
  readonly variational: (params: P, x: tf.Tensor) => VariationalDistribution;
  /** An objective, or the name of one in `registry`. */
  readonly objective: AnyObjective | string;
  /** Raw options, validated by the objective's `parseOptions`. */
  readonly objectiveOptions?: unknown;
  /** Where to look up an objective given by name (default: the default registry). */
  readonly registry?: ObjectiveRegistry;
  readonly problem: Problem;
  /** Default `adam()`. A fresh optimizer per call of `fit`. */
  readonly optimizer?: Optimizer;
  /** Default: constant at the optimizer's `lr` (or 1e-3). */
  readonly schedule?: Schedule;
  /** Total number of steps of the run (a resumed run continues up to this count). */
  readonly steps: number;
  /** Simulated pairs or observations per step (objectives may override it by option). */
  readonly batchSize: number;
  /**
   * The run's random stream. `fit` uses two children, `fit/batch` (for `sampleBatch`) and
   * `fit/loss` (randomness inside the loss); their positions are saved in checkpoints. Pass a
   * dedicated stream (e.g. `rng.split('train')`) so other uses of the root do not collide.
   */
  readonly rng: Rng;
  /** Rescale the gradient to this global norm when it is larger. */
  readonly clipNorm?: number;
  /** Consecutive non-finite steps tolerated before stopping with a NumericalError (default 50). */
  readonly maxNonFiniteInARow?: number;
  readonly callbacks?: FitCallbacks;
  readonly checkpoint?: CheckpointOptions;
  /** Resume from this checkpoint file (it must exist). */
  readonly resumeFrom?: string;
  /** Resume from `checkpoint.path` when that file exists, else start fresh. */
  readonly resume?: boolean;
  /** Record the loss in `history` every this many steps (default 1). */
  readonly historyEvery?: number;
  /**
   * Stop early: checked after every step. When aborted, `fit` writes a checkpoint (if configured)
   * and rejects with `signal.reason`; resuming continues exactly from there.
   */
  readonly signal?: AbortSignal;
}

export interface FitHistory {
  readonly step: number[];
  readonly loss: number[];
  readonly lr: number[];
}

export interface FitResult<P extends Params = Params> {
  readonly params: P;
  /** Steps completed in total (including those before a resume). */
  readonly stepsDone: number;
  readonly skippedSteps: number;
  readonly history: FitHistory;
}

function validateParams(params: Params): string[] {
  if (typeof params !== 'object' || params === null)
    throw new ConfigError('params', 'must be a record of tf.Variable');
  const names = Object.keys(params);
  if (names.length === 0) throw new ConfigError('params', 'no trainable parameters given');
  for (const name of names) {
    const v = params[name];
    if (!(v instanceof tf.Variable)) throw new ConfigError(`params.${name}`, 'must be a tf.Variable');
    if (!v.trainable) throw new ConfigError(`params.${name}`, 'must be trainable (tf.variable(x, true))');
    if (v.dtype !== 'float32') throw new ConfigError(`params.${name}`, `must be float32, got ${v.dtype}`);
  }
  return names;
}

function resolveObjective(o: AnyObjective | string, reg: ObjectiveRegistry): AnyObjective {
  if (typeof o === 'string') return reg.get(o);
  if (typeof o !== 'object' || o === null || typeof o.loss !== 'function') {
    throw new ConfigError('objective', 'must be an objective or the name of a registered one');
  }
  return o;
}

function optionalPositiveInt(field: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v <= 0)
    throw new ConfigError(field, `must be a positive integer, got ${String(v)}`);
  return v;
}

/** Up to this many parameters, `fit` reads the gradients and sums their squares in JS. */
const HOST_NORM_MAX_PARAMS = 1 << 16;
const HOST_MEMORY_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/**
 * Minimize an objective over `params` with a first-order optimizer.
 *
 * Each step: draw the batch (`objective.sampleBatch`, outside the gradient), one
 * `tf.variableGrads` of `objective.loss`, then one synchronous read of the loss and ‖g‖² (on wasm
 * and cpu with at most 65,536 parameters: of the loss and the gradients, whose squares are summed
 * in float64 on the host; otherwise of a packed [loss, ‖g‖²] computed with tfjs ops). A step whose loss or gradient is not
 * finite is skipped (parameters and optimizer state untouched, the step still counts) and
 * `maxNonFiniteInARow` consecutive ones stop the run with a NumericalError. Otherwise the gradient
 * is clipped to `clipNorm` and the optimizer updates the variables in place.
 *
 * With `checkpoint`, parameters, optimizer state, stream positions, counters and history are
 * saved atomically every `checkpoint.every` steps and at the end; resuming from one continues the
 * run exactly (same backend: bit for bit the parameters of an uninterrupted run).
 */
export async function fit<P extends Params>(options: FitOptions<P>): Promise<FitResult<P>> {
  const paramNames = validateParams(options.params);
  const params = options.params;
  const objective = resolveObjective(
    options.objective,
    options.registry ?? defaultRegistry,
  ) as Objective<unknown>;
  const objOptions = objective.parseOptions(options.objectiveOptions);
  if (typeof options.variational !== 'function')
    throw new ConfigError('variational', 'must be a function (params, x) => q');
  if (typeof options.problem !== 'object' || options.problem === null)
    throw new ConfigError('problem', 'must be an object');
  const steps = checkPositiveInt('steps', options.steps);
  const batchSize = checkPositiveInt('batchSize', options.batchSize);
  if (options.clipNorm !== undefined) checkPositive('clipNorm', options.clipNorm);
  const maxBad = optionalPositiveInt('maxNonFiniteInARow', options.maxNonFiniteInARow, 50);
  const historyEvery = optionalPositiveInt('historyEvery', options.historyEvery, 1);
  const callbacks = options.callbacks ?? {};
  const progressEvery = optionalPositiveInt('callbacks.progressEvery', callbacks.progressEvery, 100);
  const everies = callbacks.every ?? [];
  everies.forEach((c, i) => {
    optionalPositiveInt(`callbacks.every[${i}].every`, c.every, 1);
  });
  if (options.checkpoint) {
    if (typeof options.checkpoint.path !== 'string' || options.checkpoint.path === '') {
      throw new ConfigError('checkpoint.path', 'must be a non-empty string');
    }
    checkPositiveInt('checkpoint.every', options.checkpoint.every);
  }
  if (options.resume && !options.checkpoint)
    throw new ConfigError('resume', 'needs checkpoint.path to resume from');
  if (!options.rng || typeof options.rng.split !== 'function')
    throw new ConfigError('rng', 'must be a runtime Rng');

  const optimizer = options.optimizer ?? adam();
  const defaultLr = (optimizer as { lr?: number }).lr ?? 1e-3;
  const schedule = options.schedule ?? constantLr(defaultLr);
  const batchRng = options.rng.split('fit/batch');
  const lossRng = options.rng.split('fit/loss');
  optimizer.init(params);

  // Variables are identified by tf's unique variable name inside variableGrads.
  const varList = paramNames.map((n) => params[n]!);
  const keyOfVarName = new Map(paramNames.map((n) => [params[n]!.name, n]));
  const q = (x: tf.Tensor) => options.variational(params, x);
  // Where the gradient norm is computed: on the host for small models on backends whose tensors
  // live in host memory (wasm, cpu), else with tfjs ops and one packed read.
  const nParams = varList.reduce((a, v) => a + v.size, 0);
  const normOnHost = nParams <= HOST_NORM_MAX_PARAMS && HOST_MEMORY_BACKENDS.includes(tf.getBackend());

  let step = 0;
  let skippedSteps = 0;
  let badInARow = 0;
  const history: { step: number[]; loss: number[]; lr: number[] } = { step: [], loss: [], lr: [] };

  const resumePath =
    options.resumeFrom ??
    (options.resume && existsSync(options.checkpoint!.path) ? options.checkpoint!.path : undefined);
  try {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('fit aborted');
    if (resumePath !== undefined) {
      const ck = await readCheckpoint(resumePath);
      restore(ck, resumePath);
    }

    const save = async () => {
      if (!options.checkpoint) return;
      const arrays: Record<string, SavedArray> = {};
      for (const n of paramNames) {
        const v = params[n]!;
        arrays[`param/${n}`] = { shape: v.shape, values: (await v.data()) as Float32Array };
      }
      const os = await optimizer.getState();
      for (const [k, a] of Object.entries(os.tensors)) arrays[`optim/${k}`] = a;
      arrays['history/step'] = { shape: [history.step.length], values: Float64Array.from(history.step) };
      arrays['history/loss'] = { shape: [history.loss.length], values: Float64Array.from(history.loss) };
      arrays['history/lr'] = { shape: [history.lr.length], values: Float64Array.from(history.lr) };
      const data: CheckpointData = {
        state: {
          step,
          skippedSteps,
          nonFiniteInARow: badInARow,
          objective: objective.name,
          rng: { batch: batchRng.getState(), loss: lossRng.getState() },
          optimizer: { description: optimizer.description, scalars: os.scalars },
          meta: { schedule: schedule.description, ...(options.checkpoint.meta ?? {}) },
        },
        arrays,
      };
      await writeCheckpoint(options.checkpoint.path, data);
    };

    const infoAt = (loss: number, lr: number, gradNorm: number, skipped: boolean): StepInfo => ({
      step,
      steps,
      loss,
      lr,
      gradNorm,
      skipped,
      skippedSteps,
      params,
    });

    if (step === 0) {
      for (const c of everies)
        if (c.atStart) await c.fn(infoAt(Number.NaN, schedule.lr(0), Number.NaN, false));
    }

    const t0 = performance.now();
    const firstStep = step;
    let lastSaved = step;
    let lastLoss = Number.NaN;
    while (step < steps) {
      const n = step;
      const lr = schedule.lr(n);
      let batch: Batch | undefined;
      let value: tf.Scalar | undefined;
      let grads: tf.NamedTensorMap | undefined;
      let loss = Number.NaN;
      let gradNorm = Number.NaN;
      let skipped = false;
      try {
        batch = tf.tidy(() =>
          objective.sampleBatch({
            problem: options.problem,
            rng: batchRng,
            options: objOptions,
            batchSize,
            step: n,
          }),
        );
        const r = tf.variableGrads(() => {
          const l = objective.loss({
            batch: batch!,
            problem: options.problem,
            options: objOptions,
            q,
            rng: lossRng,
          });
          if (!(l instanceof tf.Tensor) || l.rank !== 0) {
            throw new ConfigError(`objective '${objective.name}'.loss`, 'must return a scalar tensor');
          }
          return l;
        }, varList);
        value = r.value;
        grads = r.grads;
        const g = grads;
        if (normOnHost) {
          // Small models on wasm/cpu: reading the gradients is a copy; sum their squares in float64.
          loss = value.dataSync()[0] as number;
          let gn2 = 0;
          for (const t of Object.values(g)) {
            const d = t.dataSync() as Float32Array;
            for (let k = 0; k < d.length; k++) gn2 += (d[k] as number) * (d[k] as number);
          }
          gradNorm = Math.sqrt(gn2);
        } else {
          const packed = tf.tidy(() =>
            tf.stack([value!, tf.addN(Object.values(g).map((t) => tf.sum(tf.square(t))))]),
          );
          const [lv, gn2] = packed.dataSync() as Float32Array;
          packed.dispose();
          loss = lv as number;
          gradNorm = Math.sqrt(gn2 as number);
        }
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
          skipped = true;
        } else {
          const byKey: Record<string, tf.Tensor> = {};
          for (const [varName, t] of Object.entries(g)) byKey[keyOfVarName.get(varName)!] = t;
          const scale =
            options.clipNorm !== undefined && gradNorm > options.clipNorm ? options.clipNorm / gradNorm : 1;
          optimizer.apply(byKey, lr, scale);
        }
      } finally {
        if (batch) for (const t of Object.values(batch)) t.dispose();
        value?.dispose();
        if (grads) for (const t of Object.values(grads)) t.dispose();
      }
      step = n + 1;
      if (skipped) {
        skippedSteps += 1;
        badInARow += 1;
        if (badInARow >= maxBad) {
          throw new NumericalError(
            'fit',
            `${badInARow} consecutive steps (${step - badInARow + 1}..${step}) had a non-finite ${
              Number.isFinite(loss) ? 'gradient' : 'loss'
            } (last loss ${loss}, gradient norm ${gradNorm}); stopping. Lower the learning rate, set clipNorm, or check the clamps of the variational parameters and the problem's likelihood.`,
          );
        }
      } else {
        badInARow = 0;
        lastLoss = loss;
      }
      if (step % historyEvery === 0) {
        history.step.push(step);
        history.loss.push(loss);
        history.lr.push(lr);
      }
      const needInfo = callbacks.onStep !== undefined || everies.some((c) => step % c.every === 0);
      if (needInfo) {
        const info = infoAt(loss, lr, gradNorm, skipped);
        if (callbacks.onStep) await callbacks.onStep(info);
        for (const c of everies) if (step % c.every === 0) await c.fn(info);
      }
      if (callbacks.onProgress && (step % progressEvery === 0 || step === steps)) {
        const elapsed = (performance.now() - t0) / 1000;
        const rate = elapsed > 0 ? (step - firstStep) / elapsed : 0;
        callbacks.onProgress({
          step,
          steps,
          loss: lastLoss,
          rate,
          etaSeconds: rate > 0 ? (steps - step) / rate : Number.POSITIVE_INFINITY,
          skippedSteps,
        });
      }
      if (options.checkpoint && step % options.checkpoint.every === 0) {
        await save();
        lastSaved = step;
      }
      if (options.signal?.aborted) {
        if (options.checkpoint && lastSaved !== step) await save();
        throw options.signal.reason ?? new Error('fit aborted');
      }
    }
    if (options.checkpoint && lastSaved !== step) await save();
    return { params, stepsDone: step, skippedSteps, history };
  } finally {
    optimizer.dispose();
  }

  function restore(ck: CheckpointData, file: string): void {
    const s = ck.state;
    if (s.objective !== objective.name) {
      throw new FileFormatError(
        file,
        `checkpoint is of objective '${s.objective}', this run uses '${objective.name}'`,
      );
    }
    if (!Number.isInteger(s.step) || s.step < 0 || s.step > steps) {
      throw new FileFormatError(file, `checkpoint step ${s.step} is outside 0..${steps}`);
    }
    const savedParams = Object.keys(ck.arrays)
      .filter((k) => k.startsWith('param/'))
      .map((k) => k.slice(6));
    const missing = paramNames.filter((n) => !savedParams.includes(n));
    const extra = savedParams.filter((n) => !paramNames.includes(n));
    if (missing.length || extra.length) {
      throw new FileFormatError(
        file,
        `parameters differ from this run's (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'})`,
      );
    }
    for (const n of paramNames) {
      const a = ck.arrays[`param/${n}`]!;
      const v = params[n]!;
      if (a.shape.join(',') !== v.shape.join(',')) {
        throw new FileFormatError(
          file,
          `param '${n}' has shape [${a.shape.join(', ')}], expected [${v.shape.join(', ')}]`,
        );
      }
    }
    const tensors: Record<string, { shape: readonly number[]; values: Float32Array }> = {};
    for (const [k, a] of Object.entries(ck.arrays)) {
      if (k.startsWith('optim/')) tensors[k.slice(6)] = { shape: a.shape, values: a.values as Float32Array };
    }
    optimizer.setState({ scalars: s.optimizer.scalars, tensors });
    for (const n of paramNames) {
      const a = ck.arrays[`param/${n}`]!;
      const v = params[n]!;
      tf.tidy(() => v.assign(tf.tensor(a.values as Float32Array, v.shape, 'float32')));
    }
    if (!s.rng?.batch || !s.rng?.loss) throw new FileFormatError(file, 'missing rng states');
    batchRng.setState(s.rng.batch);
    lossRng.setState(s.rng.loss);
    step = s.step;
    skippedSteps = s.skippedSteps;
    badInARow = s.nonFiniteInARow;
    const hs = ck.arrays['history/step']?.values ?? [];
    const hl = ck.arrays['history/loss']?.values ?? [];
    const hr = ck.arrays['history/lr']?.values ?? [];
    history.step.push(...Array.from(hs));
    history.loss.push(...Array.from(hl));
    history.lr.push(...Array.from(hr));
  }
}
