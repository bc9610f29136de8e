import type { Batch, Objective } from '@gcvi/objective-contract';
import {
  ConfigError,
  checkPositive,
  checkPositiveInt,
  NumericalError,
  type Rng,
  rngFromState,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { registry as defaultRegistry } from './defaults.js';
import type { FitRun, FitSetup, FitState, Params, StepOutcome } from './fit-types.js';
import { adam } from './optimizers.js';
import type { ObjectiveRegistry } from './registry.js';
import { constantLr, type Schedule } from './schedules.js';

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

function resolveObjective(o: unknown, reg: ObjectiveRegistry): Objective<unknown> {
  if (typeof o === 'string') return reg.get(o) as Objective<unknown>;
  if (typeof o !== 'object' || o === null || typeof (o as { loss?: unknown }).loss !== 'function') {
    throw new ConfigError('objective', 'must be an objective or the name of a registered one');
  }
  return o as Objective<unknown>;
}

/** A positive integer option with a default. */
export function optionalPositiveInt(field: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v <= 0)
    throw new ConfigError(field, `must be a positive integer, got ${String(v)}`);
  return v;
}

const scheduleName = (s: Schedule): string =>
  typeof s.description === 'string' && s.description !== '' ? s.description : 'custom schedule';

/**
 * The learning rate of `schedule` at 0-based step `n`, checked: a rate that is not a finite
 * number ≥ 0 is a ConfigError naming the schedule and the step (not NaN parameters later).
 */
export function scheduledLr(schedule: Schedule, n: number): number {
  const lr = schedule.lr(n);
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new ConfigError(
      'schedule',
      `${scheduleName(schedule)} returned learning rate ${String(lr)} at step ${n}; a learning rate must be a finite number >= 0`,
    );
  }
  return lr;
}

/** The newest state of each run: only it may be stepped or saved. */
const newest = new WeakMap<FitRun<Params>, FitState<Params>>();

/** Record `state` as the newest of its run (used by `fitStep` and `loadFitState`). */
export function markNewest<P extends Params>(state: FitState<P>): FitState<P> {
  newest.set(state.run as unknown as FitRun<Params>, state as unknown as FitState<Params>);
  return state;
}

/** Throw unless `state` is the newest state of its run. */
export function checkNewest<P extends Params>(state: FitState<P>, what: string): void {
  if (typeof state !== 'object' || state === null || !state.run) {
    throw new ConfigError('state', 'must be a FitState from initFit, fitStep or loadFitState');
  }
  const latest = newest.get(state.run as unknown as FitRun<Params>);
  if (latest !== (state as unknown as FitState<Params>)) {
    throw new ConfigError(
      'state',
      `${what}: this FitState (step ${state.step}) is not the newest of its run${
        latest ? ` (that is at step ${latest.step})` : ' (its optimizer was disposed)'
      }; parameters and optimizer state move in place, so only the newest state can be used`,
    );
  }
}

/**
 * Validate a fit setup and make the run's first state: step 0, the optimizer initialised over
 * `params`, the `fit/batch` and `fit/loss` streams at their start. The caller owns the state's
 * optimizer tensors: free them with `disposeFitState` (`fit` does). Loop options of `FitOptions`
 * (callbacks, checkpoint, resume, signal) are `fit`'s business and ignored here.
 */
export function initFit<P extends Params>(setup: FitSetup<P>): FitState<P> {
  if (typeof setup !== 'object' || setup === null) throw new ConfigError('options', 'must be an object');
  const paramNames = validateParams(setup.params);
  const objective = resolveObjective(setup.objective, setup.registry ?? defaultRegistry);
  const objectiveOptions = objective.parseOptions(setup.objectiveOptions);
  if (typeof setup.variational !== 'function')
    throw new ConfigError('variational', 'must be a function (params, x) => q');
  if (typeof setup.problem !== 'object' || setup.problem === null)
    throw new ConfigError('problem', 'must be an object');
  const steps = checkPositiveInt('steps', setup.steps);
  const batchSize = checkPositiveInt('batchSize', setup.batchSize);
  if (setup.clipNorm !== undefined) checkPositive('clipNorm', setup.clipNorm);
  const maxNonFiniteInARow = optionalPositiveInt('maxNonFiniteInARow', setup.maxNonFiniteInARow, 50);
  const historyEvery = optionalPositiveInt('historyEvery', setup.historyEvery, 1);
  if (!setup.rng || typeof setup.rng.split !== 'function')
    throw new ConfigError('rng', 'must be a runtime Rng');
  if (
    setup.schedule !== undefined &&
    (typeof setup.schedule !== 'object' || typeof setup.schedule?.lr !== 'function')
  ) {
    throw new ConfigError('schedule', 'must be a Schedule ({ description, lr(step) })');
  }
  const average = setup.average === undefined ? null : checkAverage(setup.average, steps);
  const optimizer = setup.optimizer ?? adam();
  const schedule = setup.schedule ?? constantLr((optimizer as { lr?: number }).lr ?? 1e-3);
  optimizer.init(setup.params);
  const run: FitRun<P> = {
    params: setup.params,
    paramNames,
    objective,
    objectiveOptions,
    variational: setup.variational,
    problem: setup.problem,
    optimizer,
    schedule,
    steps,
    batchSize,
    clipNorm: setup.clipNorm,
    maxNonFiniteInARow,
    historyEvery,
    average: average === null ? null : { from: average, vars: zeroVariables(setup.params, paramNames) },
  };
  return markNewest({
    run,
    step: 0,
    skippedSteps: 0,
    nonFiniteInARow: 0,
    rng: { batch: setup.rng.split('fit/batch').getState(), loss: setup.rng.split('fit/loss').getState() },
    last: null,
    history: { step: [], loss: [], lr: [] },
    params: setup.params,
  });
}

function checkAverage(a: unknown, steps: number): number {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) {
    throw new ConfigError('average', `must be an object { from }, got ${JSON.stringify(a) ?? String(a)}`);
  }
  const from = (a as { from?: unknown }).from;
  if (typeof from !== 'number' || !Number.isInteger(from)) {
    throw new ConfigError('average.from', `must be an integer step count, got ${String(from)}`);
  }
  if (from < 0 || from >= steps) {
    throw new ConfigError(
      'average.from',
      `must be at least 0 and below steps (${steps}), got ${from}: the mean is over steps from + 1 … steps`,
    );
  }
  return from;
}

function zeroVariables(params: Params, names: readonly string[]): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const n of names) out[n] = tf.tidy(() => tf.variable(tf.zerosLike(params[n]!), false));
  return out;
}

/**
 * Fold the parameters after step `step` into the run's tail mean: m ← m + (p − m) / k with
 * k = step − from (m is zero before k = 1, so m = p there exactly).
 */
function updateAverage(run: FitRun<Params>, step: number): void {
  const a = run.average;
  if (a === null || step <= a.from) return;
  const k = step - a.from;
  for (const n of run.paramNames) {
    const m = a.vars[n]!;
    const p = run.params[n]!;
    tf.tidy(() => m.assign(tf.add(m, tf.div(tf.sub(p, m), k))));
  }
}

/** Free the optimizer tensors and the tail mean of a run (not its parameters, which the caller owns). */
export function disposeFitState<P extends Params>(state: FitState<P>): void {
  state.run.optimizer.dispose();
  if (state.run.average) for (const v of Object.values(state.run.average.vars)) v.dispose();
  newest.delete(state.run as unknown as FitRun<Params>);
}

/** Up to this many parameters, `fitStep` reads the gradients and sums their squares in JS. */
const HOST_NORM_MAX_PARAMS = 1 << 16;
const HOST_MEMORY_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/** One objective evaluation with gradients; returns loss, ‖g‖ and the gradients by parameter name. */
function lossAndGrads(
  run: FitRun<Params>,
  n: number,
  batchRng: Rng,
  lossRng: Rng,
): { loss: number; gradNorm: number; grads: tf.NamedTensorMap; dispose: () => void } {
  const { objective, problem, objectiveOptions: options, params } = run;
  let batch: Batch | undefined;
  let value: tf.Scalar | undefined;
  let grads: tf.NamedTensorMap | undefined;
  const dispose = () => {
    if (batch) for (const t of Object.values(batch)) t.dispose();
    value?.dispose();
    if (grads) for (const t of Object.values(grads)) t.dispose();
  };
  try {
    batch = tf.tidy(() =>
      objective.sampleBatch({ problem, rng: batchRng, options, batchSize: run.batchSize, step: n }),
    );
    const varList = run.paramNames.map((k) => params[k]!);
    const q = (x: tf.Tensor) => run.variational(params, x);
    const r = tf.variableGrads(() => {
      const l = objective.loss({ batch: batch!, problem, options, q, rng: lossRng });
      if (!(l instanceof tf.Tensor) || l.rank !== 0) {
        throw new ConfigError(`objective '${objective.name}'.loss`, 'must return a scalar tensor');
      }
      return l;
    }, varList);
    value = r.value;
    // Gradients by parameter name (tf names them by the variables' unique names).
    const byName: tf.NamedTensorMap = {};
    for (const k of run.paramNames) {
      const g = r.grads[params[k]!.name];
      if (g) byName[k] = g;
    }
    grads = r.grads;
    const nParams = varList.reduce((a, v) => a + v.size, 0);
    let loss: number;
    let gradNorm: number;
    if (nParams <= HOST_NORM_MAX_PARAMS && HOST_MEMORY_BACKENDS.includes(tf.getBackend())) {
      // Small models on wasm/cpu: reading the gradients is a copy; sum their squares in float64.
      loss = value.dataSync()[0] as number;
      let gn2 = 0;
      for (const t of Object.values(byName)) {
        const d = t.dataSync() as Float32Array;
        for (let k = 0; k < d.length; k++) gn2 += (d[k] as number) * (d[k] as number);
      }
      gradNorm = Math.sqrt(gn2);
    } else {
      const packed = tf.tidy(() =>
        tf.stack([value!, tf.addN(Object.values(byName).map((t) => tf.sum(tf.square(t))))]),
      );
      const [lv, gn2] = packed.dataSync() as Float32Array;
      packed.dispose();
      loss = lv as number;
      gradNorm = Math.sqrt(gn2 as number);
    }
    return { loss, gradNorm, grads: byName, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

/**
 * One training step: the next state of the run. Draws the batch (`objective.sampleBatch`, outside
 * the gradient), one `tf.variableGrads` of `objective.loss`, one synchronous read of the loss and
 * ‖g‖² (on wasm and cpu with at most 65,536 parameters: of the loss and the gradients, summed in
 * float64 on the host; otherwise of a packed [loss, ‖g‖²]). A step whose loss or gradient is not
 * finite is skipped (parameters and optimizer state untouched, the step still counts);
 * `maxNonFiniteInARow` in a row throw a NumericalError. Otherwise the gradient is clipped to
 * `clipNorm` and the optimizer updates the parameters in place.
 */
export function fitStep<P extends Params>(state: FitState<P>): FitState<P> {
  checkNewest(state, 'fitStep');
  const run = state.run as unknown as FitRun<Params>;
  const n = state.step;
  if (n >= run.steps) {
    throw new ConfigError('state', `the run is complete (${n} of ${run.steps} steps); nothing to step`);
  }
  const lr = scheduledLr(run.schedule, n);
  const batchRng = rngFromState(state.rng.batch);
  const lossRng = rngFromState(state.rng.loss);
  const r = lossAndGrads(run, n, batchRng, lossRng);
  let skipped = false;
  try {
    if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) {
      skipped = true;
    } else {
      const scale = run.clipNorm !== undefined && r.gradNorm > run.clipNorm ? run.clipNorm / r.gradNorm : 1;
      run.optimizer.apply(r.grads, lr, scale);
    }
  } finally {
    r.dispose();
  }
  const step = n + 1;
  const nonFiniteInARow = skipped ? state.nonFiniteInARow + 1 : 0;
  if (nonFiniteInARow >= run.maxNonFiniteInARow) {
    // thrown before the tail mean takes this step in: the state stays that of step n, mean included
    throw new NumericalError(
      'fit',
      `${nonFiniteInARow} consecutive steps (${step - nonFiniteInARow + 1}..${step}) had a non-finite ${
        Number.isFinite(r.loss) ? 'gradient' : 'loss'
      } (last loss ${r.loss}, gradient norm ${r.gradNorm}); stopping. Lower the learning rate, set clipNorm, or check the clamps of the variational parameters and the problem's likelihood.`,
    );
  }
  updateAverage(run, step);
  const last: StepOutcome = { loss: r.loss, lr, gradNorm: r.gradNorm, skipped };
  const history = state.history;
  if (step % run.historyEvery === 0) {
    history.step.push(step);
    history.loss.push(r.loss);
    history.lr.push(lr);
  }
  return markNewest({
    run: state.run,
    step,
    skippedSteps: state.skippedSteps + (skipped ? 1 : 0),
    nonFiniteInARow,
    rng: { batch: batchRng.getState(), loss: lossRng.getState() },
    last,
    history,
    params: state.params,
  });
}
