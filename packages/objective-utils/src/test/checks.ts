import { type AnyObjective, type LossContext, OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import * as tf from '@tensorflow/tfjs-core';
import {
  CONJUGATE_POSTERIOR,
  type ConjugateFitOptions,
  conjugateProblem,
  fitConjugate,
  linearEncoderParams,
  makeLinearNormalQ,
} from './conjugate.js';
import type { ConformanceHarness } from './harness.js';

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
  /** A label for the group of checks (default: the objective's name and options). */
  readonly label?: string;
  readonly tolerance?: ConformanceTolerance;
  /** Per-check timeout in ms (default 600 000: the fit check trains a small model, slow on a loaded machine). */
  readonly timeout?: number;
}

/** One conformance check: `run` throws an Error saying what failed, or returns. */
export interface ConformanceCheck {
  readonly name: string;
  readonly timeout: number;
  run(): void | Promise<void>;
}

/** A failed conformance check. */
export class ConformanceError extends Error {
  constructor(objective: string, message: string) {
    super(`objective '${objective}' fails conformance: ${message}`);
    this.name = 'ConformanceError';
  }
}

/** The label `runObjectiveConformance` gives the group of checks. */
export function conformanceLabel(objective: AnyObjective, options: ConformanceOptions = {}): string {
  return (
    options.label ??
    `objective conformance: ${String((objective as { name?: unknown })?.name)}${
      options.objectiveOptions === undefined ? '' : ` ${JSON.stringify(options.objectiveOptions)}`
    }`
  );
}

/**
 * The conformance checks for `objective`, as plain functions (no test framework needed):
 *
 * 1. it is a valid objective (the contract's fields; plus the host's `validateObjective`) and its
 *    options parse (defaults included; a non-object is refused);
 * 2. on the conjugate problem — which provides only what `requires` declares — one batch gives a
 *    finite scalar loss with finite gradients reaching every parameter of the linear encoder;
 * 3. the loss is a pure function of (parameters, batch, loss seed) and leaves no tensors behind;
 * 4. (with `harness.fit`) fitting the linear encoder q(θ | x) = Normal(a·x + b, exp(c·x + d))
 *    (Adam, 800 steps, step-divide decay, fixed seed) reaches the exact posterior
 *    θ | x ~ N(x/2, 1/2): |a − ½| ≤ 0.04, |b| ≤ 0.04, |c| ≤ 0.04, |exp(2d) − ½| ≤ 0.06 by default.
 *
 * Call `harness.setup()` (if any) before running them; `runObjectiveConformance` does.
 */
export function conformanceChecks(
  objective: AnyObjective,
  harness: ConformanceHarness,
  options: ConformanceOptions = {},
): ConformanceCheck[] {
  const tol = { slope: 0.04, intercept: 0.04, logSdSlope: 0.04, variance: 0.06, ...options.tolerance };
  const timeout = options.timeout ?? 600_000;
  const who = String((objective as { name?: unknown })?.name);
  const check = (ok: boolean, message: string) => {
    if (!ok) throw new ConformanceError(who, message);
  };

  /** One batch and loss evaluation on the conjugate problem at the initial parameters. */
  const evaluate = (lossSeed: string) => {
    const root = harness.createRng('conformance');
    const problem = conjugateProblem(objective.requires, root.split('data'), options.nObserved ?? 512);
    const params = linearEncoderParams();
    const q = makeLinearNormalQ(harness.normal);
    try {
      const opts = objective.parseOptions(options.objectiveOptions);
      const batch = tf.tidy(() =>
        objective.sampleBatch({ problem, rng: root.split('batch'), options: opts, batchSize: 64, step: 0 }),
      );
      const ctx: LossContext<unknown> = {
        batch,
        problem,
        options: opts,
        q: (x) => q(params, x),
        rng: harness.createRng(lossSeed),
      };
      let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
      try {
        result = tf.variableGrads(() => objective.loss(ctx), Object.values(params));
      } catch (e) {
        tf.dispose(Object.values(batch));
        if (
          /Cannot find a connection between any variable and the result/.test(String((e as Error)?.message))
        ) {
          throw new ConformanceError(
            who,
            'no gradient reaches the encoder parameters: the loss does not depend on q',
          );
        }
        throw e;
      }
      const { value, grads } = result;
      const out = {
        rank: value.rank,
        value: value.dataSync()[0] as number,
        grads: Object.fromEntries(
          Object.entries(params).map(([k, v]) => [
            k,
            grads[v.name] ? (grads[v.name]?.dataSync()[0] as number) : null,
          ]),
        ) as Record<string, number | null>,
      };
      tf.dispose([value, ...Object.values(grads), ...Object.values(batch)]);
      return out;
    } finally {
      tf.dispose(Object.values(params));
      problem.dispose();
    }
  };

  const checks: ConformanceCheck[] = [
    {
      name: 'is a valid objective whose options parse',
      timeout,
      run() {
        const o = objective as Partial<AnyObjective>;
        check(
          typeof o.name === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(o.name),
          `name must be kebab-case, got ${JSON.stringify(o.name)}`,
        );
        check(
          o.contractVersion === OBJECTIVE_CONTRACT_VERSION,
          `contractVersion must be ${OBJECTIVE_CONTRACT_VERSION}, got ${JSON.stringify(o.contractVersion)}`,
        );
        check(Array.isArray(o.requires), 'requires must be an array');
        for (const f of ['parseOptions', 'sampleBatch', 'loss'] as const) {
          check(typeof o[f] === 'function', `${f} must be a function`);
        }
        harness.validateObjective?.(objective);
        const parsedDefaults = objective.parseOptions(undefined);
        check(
          typeof parsedDefaults === 'object' && parsedDefaults !== null,
          'parseOptions(undefined) must return an object',
        );
        const parsed = objective.parseOptions(options.objectiveOptions);
        check(typeof parsed === 'object' && parsed !== null, 'parseOptions(options) must return an object');
        let threw = false;
        try {
          objective.parseOptions(42);
        } catch {
          threw = true;
        }
        check(threw, 'parseOptions(42) must throw (options are an object)');
      },
    },
    {
      name: 'gives a finite scalar loss and finite gradients for every encoder parameter (problem limited to `requires`)',
      timeout,
      run() {
        const r = evaluate('loss');
        check(r.rank === 0, `the loss must be a scalar, got rank ${r.rank}`);
        check(Number.isFinite(r.value), `the loss must be finite, got ${r.value}`);
        for (const [k, g] of Object.entries(r.grads)) {
          check(g !== null, `no gradient reaches encoder parameter ${k}`);
          check(Number.isFinite(g as number), `gradient of ${k} must be finite, got ${g}`);
        }
        check(
          Object.values(r.grads).some((g) => g !== 0),
          'every gradient is 0: the loss does not depend on q',
        );
      },
    },
    {
      name: 'is a pure function of (parameters, batch, loss seed) and leaves no tensors behind',
      timeout,
      run() {
        evaluate('warm-up');
        const before = tf.memory().numTensors;
        const a = evaluate('same');
        const b = evaluate('same');
        const after = tf.memory().numTensors;
        check(after === before, `${after - before} tensors left behind by sampleBatch + loss`);
        check(b.value === a.value, `same inputs gave losses ${a.value} and ${b.value}`);
        check(
          JSON.stringify(b.grads) === JSON.stringify(a.grads),
          `same inputs gave gradients ${JSON.stringify(a.grads)} and ${JSON.stringify(b.grads)}`,
        );
      },
    },
  ];
  const fit = harness.fit;
  if (fit) {
    checks.push({
      name: `fits the exact posterior N(x/2, 1/2) of the conjugate problem (|Δa|≤${tol.slope}, |Δb|≤${tol.intercept}, |Δc|≤${tol.logSdSlope}, |Δσ²|≤${tol.variance})`,
      timeout,
      async run() {
        const r = await fitConjugate(objective, { ...harness, fit }, options);
        const { slope, intercept, variance } = CONJUGATE_POSTERIOR;
        const got = JSON.stringify(r);
        check(
          Math.abs(r.slope - slope) <= tol.slope,
          `slope ${r.slope} not within ${tol.slope} of ${slope}: ${got}`,
        );
        check(
          Math.abs(r.intercept - intercept) <= tol.intercept,
          `intercept ${r.intercept} not within ${tol.intercept} of ${intercept}: ${got}`,
        );
        check(
          Math.abs(r.logSdSlope) <= tol.logSdSlope,
          `log-sd slope ${r.logSdSlope} not within ${tol.logSdSlope} of 0: ${got}`,
        );
        check(
          Math.abs(r.variance - variance) <= tol.variance,
          `variance ${r.variance} not within ${tol.variance} of ${variance}: ${got}`,
        );
      },
    });
  }
  return checks;
}

/** The part of a test framework the suite registers with (vitest's, jest's or mocha's globals). */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => void | Promise<void>, timeout?: number): void;
  beforeAll?(fn: () => void | Promise<void>): void;
}

/**
 * Register the conformance checks as tests: one `describe` block with one `it` per check. Pass the
 * framework's functions, e.g. `import { beforeAll, describe, it } from 'vitest'` and
 * `runObjectiveConformance(myObjective, { test: { describe, it, beforeAll }, harness })`.
 */
export function runObjectiveConformance(
  objective: AnyObjective,
  options: ConformanceOptions & { readonly test: TestApi; readonly harness: ConformanceHarness },
): void {
  const { test, harness } = options;
  const checks = conformanceChecks(objective, harness, options);
  let ready: Promise<void> | undefined;
  const setup = () => {
    ready ??= Promise.resolve(harness.setup?.());
    return ready;
  };
  test.describe(conformanceLabel(objective, options), () => {
    if (test.beforeAll) test.beforeAll(setup);
    for (const c of checks) {
      test.it(
        c.name,
        async () => {
          await setup();
          await c.run();
        },
        c.timeout,
      );
    }
  });
}
