import type { AnyObjective, Objective, Problem, VariationalDistribution } from '@gcvi/objective-contract';
import type { Rng, RngState } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';
import type { Optimizer } from './optimizers.js';
import type { ObjectiveRegistry } from './registry.js';
import type { Schedule } from './schedules.js';

/** Trainable parameters by name: encoder weights and any parameters of the problem itself. */
export type Params = Readonly<Record<string, tf.Variable>>;

/** What one step did (the `last` of the state it produced). */
export interface StepOutcome {
  /** Loss of this step (before the update); non-finite when the step was skipped. */
  readonly loss: number;
  /** Learning rate used (or that would have been used) at this step. */
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Whether this step was skipped because the loss or a gradient was not finite. */
  readonly skipped: boolean;
}

/** What step callbacks receive. */
export interface StepInfo extends StepOutcome {
  /** Steps completed, counting this one (1-based). */
  readonly step: number;
  /** Total steps of the run. */
  readonly steps: number;
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
  /**
   * Called once, before the first step, when `fit` loaded a saved state (`resume`/`resumeFrom`),
   * with the number of steps that state had completed (also when that is already all of them).
   */
  onResume?(step: number): void | Promise<void>;
  /** After every step. */
  onStep?(info: StepInfo): void | Promise<void>;
  every?: readonly EveryCallback[];
  /** Every `progressEvery` steps (default 100) and after the last step. */
  onProgress?(p: ProgressInfo): void;
  progressEvery?: number;
}

export interface CheckpointOptions {
  /** Fit-state file to write (a tensor file, atomically; overwritten each time). */
  readonly path: string;
  /** Steps between checkpoints; one is also written after the last step. */
  readonly every: number;
  /** Free-form JSON stored in the file (e.g. the run id). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** What `initFit` needs: the problem, the model, the optimizer and the step budget. */
export interface FitSetup<P extends Params = Params> {
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
  /** Default `adam()`. A fresh optimizer per call of `initFit`/`fit`. */
  readonly optimizer?: Optimizer;
  /**
   * Default: constant at the optimizer's `lr` (or 1e-3). Every rate it returns is checked: NaN,
   * ±Infinity or a negative rate stops the step with a ConfigError naming the schedule and step.
   */
  readonly schedule?: Schedule;
  /** Total number of steps of the run (a resumed run continues up to this count). */
  readonly steps: number;
  /** Simulated pairs or observations per step (objectives may override it by option). */
  readonly batchSize: number;
  /**
   * The run's random stream. Two children are used, `fit/batch` (for `sampleBatch`) and
   * `fit/loss` (randomness inside the loss); their positions are part of the state. Pass a
   * dedicated stream (e.g. `rng.split('train')`) so other uses of the root do not collide.
   */
  readonly rng: Rng;
  /** Rescale the gradient to this global norm when it is larger. */
  readonly clipNorm?: number;
  /** Consecutive non-finite steps tolerated before stopping with a NumericalError (default 50). */
  readonly maxNonFiniteInARow?: number;
  /** Record the loss in `history` every this many steps (default 1). */
  readonly historyEvery?: number;
  /**
   * Tail (Polyak–Ruppert) averaging: keep the uniform mean of the parameters after each of the
   * steps `from + 1`, …, `steps` (skipped steps included: their parameters are the previous
   * ones). `from` is an integer with 0 ≤ from < steps. The mean is part of the state (saved and
   * resumed bit for bit) and `fit` returns it as `FitResult.averaged`. With a noisy gradient and
   * a rate that does not vanish, the last iterate jitters around the optimum; the tail mean does
   * not (its spread falls roughly as one over the square root of the steps averaged).
   */
  readonly average?: { readonly from: number };
}

/** `fit`'s options: the setup plus the loop's callbacks, checkpoints, resume and abort. */
export interface FitOptions<P extends Params = Params> extends FitSetup<P> {
  readonly callbacks?: FitCallbacks;
  readonly checkpoint?: CheckpointOptions;
  /** Resume from this fit-state file (it must exist). */
  readonly resumeFrom?: string;
  /** Resume from `checkpoint.path` when that file exists, else start fresh. */
  readonly resume?: boolean;
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
  /** The step count of the saved state this call resumed from, or null for a fresh run. */
  readonly resumedFrom: number | null;
  /**
   * With `average`: the mean of the parameters after steps `from + 1 … stepsDone`, by name, as
   * new non-trainable variables that the caller owns (dispose them). Null without `average`.
   */
  readonly averaged: Record<keyof P & string, tf.Variable> | null;
}

/** The resolved, validated setup of a run: fixed for its whole life, shared by all its states. */
export interface FitRun<P extends Params = Params> {
  readonly params: P;
  readonly paramNames: readonly string[];
  readonly objective: Objective<unknown>;
  readonly objectiveOptions: unknown;
  readonly variational: (params: P, x: tf.Tensor) => VariationalDistribution;
  readonly problem: Problem;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly steps: number;
  readonly batchSize: number;
  readonly clipNorm: number | undefined;
  readonly maxNonFiniteInARow: number;
  readonly historyEvery: number;
  /** The tail average (`FitSetup.average`): its first step and its variables, owned by the run. */
  readonly average: { readonly from: number; readonly vars: Readonly<Record<string, tf.Variable>> } | null;
}

/**
 * The trainer state (numpyro's `SVIState`): `initFit` makes the first, `fitStep` maps a state to
 * the next, `saveFitState`/`loadFitState` write and read it. The counters, stream positions and
 * `last` are plain values. The parameters and the optimizer's moments are tf variables that
 * `fitStep` updates in place, and `history`'s arrays are appended to, so only the newest state of
 * a run may be stepped or saved (an older one is refused with a ConfigError).
 */
export interface FitState<P extends Params = Params> {
  readonly run: FitRun<P>;
  /** Steps completed. */
  readonly step: number;
  readonly skippedSteps: number;
  /** Non-finite steps in a row, ending at `step`. */
  readonly nonFiniteInARow: number;
  /** Positions of the `fit/batch` and `fit/loss` streams after `step` steps. */
  readonly rng: { readonly batch: RngState; readonly loss: RngState };
  /** What the step that made this state did; null for a state from `initFit` or `loadFitState`. */
  readonly last: StepOutcome | null;
  readonly history: FitHistory;
  /** The live parameters (= `run.params`). */
  readonly params: P;
}
