/**
 * `@gcvi/objectives/test` — the conformance suite every objective runs, built-ins and plugins
 * alike. Call `runObjectiveConformance(objective)` at the top level of a vitest test file; it
 * registers a `describe` block of tests. vitest is an optional peer dependency of this entry point.
 */
import type { AnyObjective, LossContext } from '@gcvi/objective-contract';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateObjective } from '../registry.js';
import {
  CONJUGATE_POSTERIOR,
  type ConjugateFitOptions,
  conjugateProblem,
  fitConjugate,
  linearEncoderParams,
  linearNormalQ,
} from './conjugate.js';

export {
  CONJUGATE_POSTERIOR,
  type ConjugateFit,
  type ConjugateFitOptions,
  conjugateProblem,
  fitConjugate,
  linearEncoderParams,
  linearNormalQ,
} from './conjugate.js';

export interface ConformanceTolerance {
  /** |a − 1/2| for the mean's slope (default 0.04). */
  readonly slope?: number;
  /** |b − 0| for the mean's intercept (default 0.04). */
  readonly intercept?: number;
  /** |c − 0| for the slope of log sd (default 0.04). */
  readonly logSdSlope?: number;
  /** |σ²(x = 0) − 1/2| (default 0.06). */
  readonly variance?: number;
}

export interface ConformanceOptions extends ConjugateFitOptions {
  /** A label for the describe block (default: the objective's name and options). */
  readonly label?: string;
  readonly tolerance?: ConformanceTolerance;
  /** Per-test timeout in ms (default 60 000). */
  readonly timeout?: number;
}

/**
 * Register the conformance tests for `objective`:
 *
 * 1. it is a valid objective for this registry and its options parse (defaults included);
 * 2. on the conjugate problem — which provides only what `requires` declares — one batch gives a
 *    finite scalar loss with finite gradients reaching every parameter of the linear encoder;
 * 3. the loss is a pure function of (parameters, batch, loss seed) and leaves no tensors behind;
 * 4. fitting the linear encoder q(θ | x) = Normal(a·x + b, exp(c·x + d)) with `fit` (Adam, 800
 *    steps, step-divide decay, fixed seed) reaches the exact posterior θ | x ~ N(x/2, 1/2):
 *    |a − ½| ≤ 0.04, |b| ≤ 0.04, |c| ≤ 0.04, |exp(2d) − ½| ≤ 0.06 by default.
 */
export function runObjectiveConformance(objective: AnyObjective, options: ConformanceOptions = {}): void {
  const tol = {
    slope: 0.04,
    intercept: 0.04,
    logSdSlope: 0.04,
    variance: 0.06,
    ...options.tolerance,
  };
  const label =
    options.label ??
    `objective conformance: ${String((objective as { name?: unknown })?.name)}${
      options.objectiveOptions === undefined ? '' : ` ${JSON.stringify(options.objectiveOptions)}`
    }`;
  const timeout = options.timeout ?? 60_000;

  describe(label, () => {
    beforeAll(async () => {
      await initBackend();
    });

    it('is a valid objective whose options parse', () => {
      validateObjective(objective);
      const parsedDefaults = objective.parseOptions(undefined);
      expect(parsedDefaults).toBeTypeOf('object');
      expect(objective.parseOptions(options.objectiveOptions)).toBeTypeOf('object');
      expect(() => objective.parseOptions(42)).toThrow();
    });

    /** One batch and loss evaluation on the conjugate problem at the initial parameters. */
    const evaluate = (lossSeed: string) => {
      const root = createRng('conformance');
      const problem = conjugateProblem(objective.requires, root.split('data'), options.nObserved ?? 512);
      const params = linearEncoderParams();
      const opts = objective.parseOptions(options.objectiveOptions);
      const batch = tf.tidy(() =>
        objective.sampleBatch({ problem, rng: root.split('batch'), options: opts, batchSize: 64, step: 0 }),
      );
      const ctx: LossContext<unknown> = {
        batch,
        problem,
        options: opts,
        q: (x) => linearNormalQ(params, x),
        rng: createRng(lossSeed),
      };
      const { value, grads } = tf.variableGrads(() => objective.loss(ctx), Object.values(params));
      const out = {
        rank: value.rank,
        value: value.dataSync()[0] as number,
        grads: Object.fromEntries(
          Object.entries(params).map(([k, v]) => [
            k,
            grads[v.name] ? (grads[v.name]!.dataSync()[0] as number) : null,
          ]),
        ),
      };
      tf.dispose([value, ...Object.values(grads), ...Object.values(batch), ...Object.values(params)]);
      problem.dispose();
      return out;
    };

    it('gives a finite scalar loss and finite gradients for every encoder parameter (problem limited to `requires`)', () => {
      const r = evaluate('loss');
      expect(r.rank).toBe(0);
      expect(Number.isFinite(r.value), `loss ${r.value}`).toBe(true);
      for (const [k, g] of Object.entries(r.grads)) {
        expect(g, `gradient of ${k}`).not.toBeNull();
        expect(Number.isFinite(g as number), `gradient of ${k}: ${g}`).toBe(true);
      }
      expect(Object.values(r.grads).some((g) => g !== 0)).toBe(true);
    });

    it('is a pure function of (parameters, batch, loss seed) and leaves no tensors behind', () => {
      evaluate('warm-up');
      const before = tf.memory().numTensors;
      const a = evaluate('same');
      const b = evaluate('same');
      expect(tf.memory().numTensors).toBe(before);
      expect(b.value).toBe(a.value);
      expect(b.grads).toEqual(a.grads);
    });

    it(
      `fits the exact posterior N(x/2, 1/2) of the conjugate problem (|Δa|≤${tol.slope}, |Δb|≤${tol.intercept}, |Δc|≤${tol.logSdSlope}, |Δσ²|≤${tol.variance})`,
      async () => {
        const r = await fitConjugate(objective, options);
        const { slope, intercept, variance } = CONJUGATE_POSTERIOR;
        const msg = JSON.stringify(r);
        expect(Math.abs(r.slope - slope), msg).toBeLessThanOrEqual(tol.slope);
        expect(Math.abs(r.intercept - intercept), msg).toBeLessThanOrEqual(tol.intercept);
        expect(Math.abs(r.logSdSlope), msg).toBeLessThanOrEqual(tol.logSdSlope);
        expect(Math.abs(r.variance - variance), msg).toBeLessThanOrEqual(tol.variance);
      },
      timeout,
    );
  });
}
