/**
 * One E2 run: fit the two Set Transformers of a replicate with one objective and one
 * parameterization, then read the posterior mode of q(Z, S | X) at the replicate's observed X.
 */
import { clusteringSimulator } from '@gcvi/datasets';
import type { NamedTensors } from '@gcvi/encoders';
import { adam, fit as fitObjective, type Params, stepDivideLr } from '@gcvi/objectives';
import { createRng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { asRng } from '../../core/rng.js';
import { e2Family } from './family.js';
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
    params[name] = tf.variable(t, true, `e2/${config.seed}/${name}`);
    t.dispose();
  }
  const optimizer = adam({ lr: config.lr });
  const t0 = performance.now();
  let stepsThisCall = 0;
  try {
    const out = await fitObjective({
      params,
      variational: (p: Params, x: tf.Tensor) => family.q(p as NamedTensors, x),
      objective: config.objective,
      objectiveOptions: config.objective === 'elbo' ? { K: config.K, weighting: 'softmax' } : {},
      problem: {
        simulate: (n, rng) => sim.sample(n, asRng(rng, 'e2 problem')),
        observed: rep.x,
        logJoint: (theta, x) => sim.logJoint(theta, x),
      },
      optimizer,
      schedule: stepDivideLr(config.lr, config.lrEvery),
      steps: config.steps,
      batchSize: 1,
      rng: root.split('train'),
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
    tf.dispose([rep.x, rep.theta, ...Object.values(params)]);
  }
}
