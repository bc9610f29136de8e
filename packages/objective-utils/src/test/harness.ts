import type { AnyObjective, Problem, RandomStream, VariationalDistribution } from '@gcvi/objective-contract';
import type * as tf from '@tensorflow/tfjs-core';

/** What `fitConjugate` asks of the host's trainer. */
export interface ConformanceFitOptions {
  readonly params: Record<string, tf.Variable>;
  readonly variational: (
    params: Readonly<Record<string, tf.Tensor>>,
    x: tf.Tensor,
  ) => VariationalDistribution;
  readonly objective: AnyObjective;
  readonly objectiveOptions: unknown;
  readonly problem: Problem;
  readonly steps: number;
  readonly batchSize: number;
  /** Adam learning rate before the decay: lr / c with c = 2, 4, 6, … after every `lrEvery` steps. */
  readonly lr: number;
  readonly lrEvery: number;
  readonly rng: RandomStream;
}

/**
 * What the suite needs from the library that hosts the objective. The suite itself depends only
 * on the contract and tfjs-core; `@gcvi/objectives/test` exports a ready harness (`objectivesHarness`)
 * built on `@gcvi/runtime`, `@gcvi/distributions` and `fit`.
 */
export interface ConformanceHarness {
  /** A seeded stream (`@gcvi/runtime`'s `createRng`). */
  createRng(seed: string | number): RandomStream;
  /** Normal(loc, scale) with `rsample` (e.g. `@gcvi/distributions`' `Normal`). */
  normal(loc: tf.Tensor, scale: tf.Tensor): VariationalDistribution;
  /** The trainer (Adam with the step-divide decay); without it the fitting check is left out. */
  fit?(options: ConformanceFitOptions): Promise<{ readonly skippedSteps: number }>;
  /** The host registry's own validation of an objective, run besides the suite's checks. */
  validateObjective?(objective: AnyObjective): void;
  /** Run once before the checks (e.g. `initBackend`). */
  setup?(): Promise<void> | void;
}
