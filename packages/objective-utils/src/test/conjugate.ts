import type {
  AnyObjective,
  Problem,
  RandomStream,
  Requirement,
  VariationalDistribution,
} from '@gcvi/objective-contract';
import * as tf from '@tensorflow/tfjs-core';
import type { ConformanceHarness } from './harness.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** The exact posterior of the conjugate problem: θ | x ~ N(x/2, 1/2). */
export const CONJUGATE_POSTERIOR = { slope: 0.5, intercept: 0, variance: 0.5 } as const;

/**
 * θ ~ N(0, 1), x | θ ~ N(θ, 1), with θ of shape [n] and x of shape [n, 1]. Only the capabilities
 * listed in `provide` are present, so an objective that uses something it does not declare in
 * `requires` fails. `observed` (for data-fitting objectives) is `nObserved` draws of x from the
 * marginal N(0, 2), made with `rng`.
 */
export function conjugateProblem(
  provide: readonly Requirement[],
  rng: RandomStream,
  nObserved = 512,
): Problem & { dispose(): void } {
  const observed = provide.includes('observed') ? rng.normalTensor([nObserved, 1], 0, Math.SQRT2) : undefined;
  const problem: Problem & { dispose(): void } = {
    dispose: () => observed?.dispose(),
  };
  if (observed) Object.assign(problem, { observed });
  if (provide.includes('simulator')) {
    problem.simulate = (n, r) =>
      tf.tidy(() => {
        const theta = r.normalTensor([n]);
        return { theta, x: tf.reshape(tf.add(theta, r.normalTensor([n])), [n, 1]) };
      });
  }
  if (provide.includes('logJoint')) {
    problem.logJoint = (theta, x) =>
      tf.tidy(() => {
        const xr = tf.reshape(x, [-1]);
        const prior = tf.mul(-0.5, tf.add(tf.square(theta), LOG_2PI));
        const lik = tf.mul(-0.5, tf.add(tf.square(tf.sub(xr, theta)), LOG_2PI));
        return tf.add(prior, lik);
      });
  }
  return problem;
}

/** The four parameters of the linear encoder. */
export type LinearEncoderParams = Record<'a' | 'b' | 'c' | 'd', tf.Variable>;

/**
 * The linear encoder of the conformance problem: q(θ | x) = Normal(a·x + b, exp(c·x + d)), with
 * the exact posterior at a = 1/2, b = 0, c = 0, d = ½ log ½. Returns fresh variables at a fixed,
 * deliberately wrong start (a = −0.3, b = 0.4, c = 0.2, d = 0.5).
 */
export function linearEncoderParams(): LinearEncoderParams {
  // Inside tidy, so the initial-value scalars are freed (variables survive a tidy).
  return tf.tidy(() => {
    const v = (x: number) => tf.variable(tf.scalar(x), true);
    return { a: v(-0.3), b: v(0.4), c: v(0.2), d: v(0.5) };
  });
}

/** q(θ | x) of the linear encoder for x of shape [B, 1], built on the host's Normal. */
export function makeLinearNormalQ(
  normal: ConformanceHarness['normal'],
): (p: Readonly<Record<string, tf.Tensor>>, x: tf.Tensor) => VariationalDistribution {
  return (p, x) => {
    const xr = tf.reshape(x, [-1]);
    const loc = tf.add(tf.mul(p.a as tf.Tensor, xr), p.b as tf.Tensor);
    const scale = tf.exp(tf.add(tf.mul(p.c as tf.Tensor, xr), p.d as tf.Tensor));
    return normal(loc, scale);
  };
}

export interface ConjugateFitOptions {
  readonly objectiveOptions?: unknown;
  /** Default 800. */
  readonly steps?: number;
  /** Adam learning rate before the step-divide decay (default 0.05, divided by 2, 4, 6, … every steps/8). */
  readonly lr?: number;
  /** Default 256. */
  readonly batchSize?: number;
  /** Default 1. */
  readonly seed?: number;
  /** Observed data points for data-fitting objectives (default 512). */
  readonly nObserved?: number;
}

export interface ConjugateFit {
  readonly slope: number;
  readonly intercept: number;
  /** Slope of log sd in x (0 at the exact posterior). */
  readonly logSdSlope: number;
  /** exp(2d): the variance of q at x = 0. */
  readonly variance: number;
  readonly skippedSteps: number;
  readonly seconds: number;
}

/**
 * Fit the linear encoder to the conjugate problem with `objective` through the host's trainer
 * (`harness.fit`) and report the fitted posterior.
 */
export async function fitConjugate(
  objective: AnyObjective,
  harness: ConformanceHarness & Required<Pick<ConformanceHarness, 'fit'>>,
  options: ConjugateFitOptions = {},
): Promise<ConjugateFit> {
  const steps = options.steps ?? 800;
  const root = harness.createRng(options.seed ?? 1);
  const problem = conjugateProblem(objective.requires, root.split('data'), options.nObserved ?? 512);
  const params = linearEncoderParams();
  const t0 = performance.now();
  try {
    const r = await harness.fit({
      params,
      variational: makeLinearNormalQ(harness.normal),
      objective,
      objectiveOptions: options.objectiveOptions,
      problem,
      steps,
      batchSize: options.batchSize ?? 256,
      lr: options.lr ?? 0.05,
      lrEvery: Math.max(1, Math.floor(steps / 8)),
      rng: root.split('train'),
    });
    const [a, b, c, d] = (['a', 'b', 'c', 'd'] as const).map((k) => params[k].dataSync()[0] as number);
    return {
      slope: a as number,
      intercept: b as number,
      logSdSlope: c as number,
      variance: Math.exp(2 * (d as number)),
      skippedSteps: r.skippedSteps,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    for (const v of Object.values(params)) v.dispose();
    problem.dispose();
  }
}
