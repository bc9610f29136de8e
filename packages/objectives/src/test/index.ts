/**
 * `@gcvi/objectives/test` — the conformance suite of `@gcvi/objective-utils/test` with a ready
 * harness: streams from `@gcvi/runtime`, the Normal of `@gcvi/distributions`, and `fit` with Adam
 * and the step-divide decay. It imports no test framework; pass yours:
 *
 *     import { beforeAll, describe, it } from 'vitest';
 *     runObjectiveConformance(myObjective, { test: { describe, it, beforeAll } });
 */
import { Normal } from '@gcvi/distributions';
import type { AnyObjective } from '@gcvi/objective-contract';
import {
  type ConformanceHarness,
  type ConformanceOptions,
  type ConjugateFit,
  type ConjugateFitOptions,
  fitConjugate as fitConjugateWith,
  makeLinearNormalQ,
  runObjectiveConformance as runWith,
  type TestApi,
} from '@gcvi/objective-utils/test';
import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import { fit } from '../fit.js';
import { adam } from '../optimizers.js';
import { validateObjective } from '../registry.js';
import { stepDivideLr } from '../schedules.js';

export {
  CONJUGATE_POSTERIOR,
  type ConformanceCheck,
  ConformanceError,
  type ConformanceHarness,
  type ConformanceOptions,
  type ConformanceTolerance,
  type ConjugateFit,
  type ConjugateFitOptions,
  conformanceChecks,
  conjugateProblem,
  type LinearEncoderParams,
  linearEncoderParams,
  makeLinearNormalQ,
  type TestApi,
} from '@gcvi/objective-utils/test';

/** The harness of this package: `createRng`, `Normal`, `fit` + `adam` + `stepDivideLr`, `validateObjective`. */
export const objectivesHarness: Required<ConformanceHarness> = {
  createRng,
  normal: (loc, scale) => new Normal(loc, scale, { validateArgs: false }),
  async fit(o) {
    // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
    const r = await fit({
      params: o.params,
      variational: o.variational,
      objective: o.objective,
      objectiveOptions: o.objectiveOptions,
      problem: o.problem,
      optimizer: adam(),
      schedule: stepDivideLr(o.lr, o.lrEvery),
      steps: o.steps,
      batchSize: o.batchSize,
      rng: o.rng as Rng, // made by createRng below
    });
    return { skippedSteps: r.skippedSteps };
  },
  validateObjective: (o) => {
    validateObjective(o);
  },
  setup: async () => {
    await initBackend();
  },
};

/** q(θ | x) = Normal(a·x + b, exp(c·x + d)) for x of shape [B, 1] (the `variational` argument of `fit`). */
export const linearNormalQ = makeLinearNormalQ(objectivesHarness.normal);

/** Fit the linear encoder to the conjugate problem with `objective` and report the fitted posterior. */
export function fitConjugate(
  objective: AnyObjective,
  options: ConjugateFitOptions = {},
): Promise<ConjugateFit> {
  return fitConjugateWith(objective, objectivesHarness, options);
}

/**
 * Register the conformance tests for `objective` with the given test framework (see
 * `@gcvi/objective-utils/test` for the checks), using this package's harness unless one is given.
 */
export function runObjectiveConformance(
  objective: AnyObjective,
  options: ConformanceOptions & { readonly test: TestApi; readonly harness?: ConformanceHarness },
): void {
  runWith(objective, { ...options, harness: options.harness ?? objectivesHarness });
}
