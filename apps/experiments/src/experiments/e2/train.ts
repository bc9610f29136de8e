/**
 * One E2 run: fit the two Set Transformers of a replicate with one objective and one
 * parameterization, then read the posterior mode of q(Z, S | X) at the replicate's observed X.
 */
import { type ClusteringReplicate, clusteringSimulator } from '@gcvi/datasets';
import type { NamedTensors } from '@gcvi/encoders';
import { adam, type FitSetup, fit as fitObjective, type Params, stepDivideLr } from '@gcvi/objectives';
import { createRng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { asRng } from '../../core/rng.js';
import { type E2Family, e2Family } from './family.js';
import type { E2Config, E2RunResult } from './schema.js';
import { isIncreasing, l1Distance, matchesTrueCentres } from './stats.js';

export { type E2Objective, OBJECTIVES } from './schema.js';
export type { E2RunResult };

export interface TrainHooks {
  /** Checkpoint file (fit's format); resumed when it exists. */
  readonly checkpointPath?: string;
  readonly checkpointEvery?: number;
  onProgress?(step: number, total: number, loss: number): void;
  /** After every step (1-based step count). */
  onStep?(step: number): void;
}

/** What the E2 step needs from an E2 config. */
export type E2StepConfig = Pick<
  E2Config,
  | 'seed'
  | 'objective'
  | 'parameterization'
  | 'nPoints'
  | 'steps'
  | 'lr'
  | 'lrEvery'
  | 'K'
  | 'width'
  | 'heads'
  | 'trueShift'
  | 'fusedAttention'
>;

/**
 * One E2 training setup (DESIGN §2 E2), shared by `trainE2` and the bench (apps/bench): the
 * replicate's observed data, the two Set Transformers (init from the config's seed), the
 * objective (L_P on simulated sets, or the ELBO with K samples and softmax weights on the observed
 * X), Adam with the step-divide schedule. `dispose()` frees the parameters and the replicate.
 */
export function e2Step(config: E2StepConfig): {
  setup: FitSetup;
  params: Record<string, tf.Variable>;
  family: E2Family;
  replicate: ClusteringReplicate;
  dispose(): void;
} {
  const sim = clusteringSimulator({ nPoints: config.nPoints });
  const family = e2Family({
    parameterization: config.parameterization,
    width: config.width,
    heads: config.heads,
    fusedAttention: config.fusedAttention === true,
  });
  const root = createRng(config.seed);
  const rep = sim.observedReplicate(config.seed, { S: config.trueShift });
  const init = family.init(root);
  const params: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(init)) {
    params[name] = tf.variable(t, true);
    t.dispose();
  }
  const setup: FitSetup = {
    params,
    variational: (p: Params, x: tf.Tensor) => family.q(p as NamedTensors, x),
    objective: config.objective,
    objectiveOptions: config.objective === 'elbo' ? { K: config.K, weighting: 'softmax' } : {},
    problem: {
      simulate: (n, rng) => sim.sample(n, asRng(rng, 'e2 problem')),
      observed: rep.x,
      logJoint: (theta, x) => sim.logJoint(theta, x),
    },
    optimizer: adam({ lr: config.lr }),
    schedule: stepDivideLr(config.lr, config.lrEvery),
    steps: config.steps,
    batchSize: 1,
    rng: root.split('train'),
  };
  return {
    setup,
    params,
    family,
    replicate: rep,
    dispose: () => tf.dispose([rep.x, rep.theta, ...Object.values(params)]),
  };
}

/** Train one run and evaluate it at the observed data. Disposes everything it creates. */
export async function trainE2(
  config: E2Config,
  hooks: TrainHooks = {},
): Promise<{
  result: E2RunResult;
  history: { step: number[]; loss: number[] };
  /** Wall-clock ms per step in this call of `fit` (a timing, not part of the result). */
  msPerStep: number;
}> {
  const trainer = e2Step(config);
  const { params, family, replicate: rep } = trainer;
  const t0 = performance.now();
  let stepsThisCall = 0;
  try {
    const out = await fitObjective({
      ...trainer.setup,
      historyEvery: Math.max(1, Math.floor(config.steps / 200)),
      ...(hooks.checkpointPath
        ? {
            checkpoint: { path: hooks.checkpointPath, every: hooks.checkpointEvery ?? 250 },
            resume: true,
          }
        : {}),
      callbacks: {
        onStep: (info) => {
          stepsThisCall++;
          hooks.onStep?.(info.step);
        },
        onProgress: (p) => hooks.onProgress?.(p.step, p.steps, p.loss),
        progressEvery: 25,
      },
    });
    const msPerStep = stepsThisCall > 0 ? (performance.now() - t0) / stepsThisCall : Number.NaN;
    const { mode, sd } = family.summarize(params, rep.x);
    const K = family.components;
    const modeZ = mode[0]!.slice(0, K);
    const tail = out.history.loss.slice(-Math.max(1, Math.floor(out.history.loss.length / 10)));
    const finite = tail.filter(Number.isFinite);
    const result: E2RunResult = {
      seed: config.seed,
      objective: config.objective,
      parameterization: config.parameterization,
      trueZ: rep.Z.slice(),
      trueShift: rep.S,
      modeZ,
      modeS: mode[0]![K]!,
      sdZ: sd[0]!.slice(0, K),
      sdS: sd[0]![K]!,
      inOrder: isIncreasing(modeZ),
      matched: matchesTrueCentres(modeZ, rep.Z),
      l1: l1Distance(modeZ, rep.Z),
      finalLoss: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN,
      stepsDone: out.stepsDone,
      skippedSteps: out.skippedSteps,
    };
    return { result, history: { step: out.history.step, loss: out.history.loss }, msPerStep };
  } finally {
    trainer.dispose();
  }
}
