import { type CanonicalSimulator, canonicalSimulator } from '@gcvi/datasets';
import { Normal, VonMises } from '@gcvi/distributions';
import { dense, linearize, type NamedTensors } from '@gcvi/encoders';
import {
  adam,
  type EveryCallback,
  type FitCallbacks,
  fit as fitObjective,
  getObjective,
  inverseTimeLr,
  type Params,
  type Problem,
} from '@gcvi/objectives';
import { createRng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { asRng } from '../../core/rng.js';
import type { RunContext } from '../../core/types.js';
import { DEFAULT_OBJECTIVE } from './config.js';
import {
  type E1Config,
  type E1Model,
  type E1NtkRow,
  type E1RunResult,
  type E1TestNllRow,
  e1NtkRowSchema,
  MODELS,
} from './schema.js';
import {
  createTracker,
  empiricalGramMinEigenvalue,
  infiniteGramSpectrum,
  type TrackerHandle,
} from './track.js';

export { type E1Model, MODELS };
/** @deprecated name: the run result type lives in `schema.ts`. */
export type E1RunSummary = E1RunResult;

/**
 * The E1 problem with θ as `[n]` (VonMises has event shape []: `logProb` of `[n]` values for `[n]`
 * observations). The simulator returns θ as `[n, 1]`, which would broadcast to `[n, n]`.
 */
function flatThetaProblem(sim: CanonicalSimulator): Problem {
  return {
    simulate(n, rng) {
      const { theta, x } = sim.sample(n, asRng(rng, 'e1 problem'));
      const flat = tf.reshape(theta, [n]);
      theta.dispose();
      return { theta: flat, x };
    },
  };
}

/** The tracked inputs of a config (from `dataSeed` only; the same in every run of a profile). */
export function e1TrackedInputs(config: E1Config): tf.Tensor {
  const tracked = canonicalSimulator({ sigma: config.sigma }).sample(
    config.trackSize,
    createRng(config.dataSeed).split('e1/tracked'),
  );
  tracked.theta.dispose();
  return tracked.x;
}

/** The fixed evaluation data of a run: test pairs and tracked inputs, from `dataSeed` only. */
export function e1FixedData(config: E1Config) {
  const sim = canonicalSimulator({ sigma: config.sigma });
  const root = createRng(config.dataSeed);
  const test = sim.testSet(config.testSize, root.split('e1/test'));
  const exactNll = sim.exactNll(test.theta, test.x, { binWidth: config.gridBinWidth });
  const tracked = sim.sample(config.trackSize, root.split('e1/tracked'));
  tracked.theta.dispose();
  const thetaTest = tf.reshape(test.theta, [config.testSize]);
  test.theta.dispose();
  return { sim, thetaTest, xTest: test.x, exactNll, xTracked: tracked.x };
}

/**
 * Trainable variables starting at `p`. A variable shares `p`'s data until its first update (tfjs
 * `assign` swaps in new data), so `p` keeps the initial values: both models start from φ0.
 */
function variables(p: NamedTensors): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(p)) out[k] = tf.variable(v, true);
  return out;
}

/**
 * For objectives that need reparameterized samples (`rsample`), observed data and log p(θ, x):
 * a Normal q on the angle (mean π + η1, sd exp(η2): at φ0, η ≈ 0, a broad q centred on the
 * circle), the fixed observed set, and the simulator's log p(θ, x) (flat prior on the circle,
 * wrapped-normal likelihood of the angle of x).
 */
function normalFamily(config: E1Config, sim: CanonicalSimulator) {
  const observed = sim.sample(config.testSize, createRng(config.dataSeed).split('e1/observed'));
  observed.theta.dispose();
  const logJoint = (theta: tf.Tensor, x: tf.Tensor): tf.Tensor => sim.logJoint(theta, x);
  // called inside fit's and the evaluation's tf.tidy, which dispose the intermediates
  const q = (eta: tf.Tensor) => {
    const [m, s] = tf.split(eta, 2, 1) as [tf.Tensor, tf.Tensor];
    return new Normal(tf.add(tf.reshape(m, [-1]), Math.PI), tf.exp(tf.reshape(s, [-1])), {
      validateArgs: false,
    });
  };
  return { observed: observed.x, logJoint, q };
}

export async function runE1(config: E1Config, ctx: RunContext): Promise<E1RunResult> {
  const data = e1FixedData(config);
  const objectiveName = config.objective ?? DEFAULT_OBJECTIVE;
  const objective = getObjective(objectiveName);
  const reparam = objective.requires.includes('rsample');
  const normal = reparam ? normalFamily(config, data.sim) : undefined;
  const simProblem = flatThetaProblem(data.sim);
  const problem: Problem = normal
    ? { simulate: simProblem.simulate, observed: normal.observed, logJoint: normal.logJoint }
    : simProblem;
  const family = (eta: tf.Tensor) =>
    normal ? normal.q(eta) : VonMises.fromNatural(eta, { validateArgs: false });
  const encoder = dense({ inputSize: 2, hiddenSizes: [config.width], outputSize: 2 });
  const root = createRng(config.seed);
  const params0 = encoder.init(root.split('init'));
  const lin = linearize(encoder, params0);
  const store = ctx.store;
  const finalTestNll = {} as Record<E1Model, number>;
  const skippedSteps = {} as Record<E1Model, number>;
  let tracker: TrackerHandle | undefined;
  const gramInit = empiricalGramMinEigenvalue(encoder, params0, data.xTracked);
  let gramFinal = Number.NaN;
  let lastNtk: E1NtkRow | undefined;
  try {
    for (const [mi, model] of MODELS.entries()) {
      const apply = model === 'full' ? encoder.apply : lin.apply;
      const ckpt = store.file(`checkpoint-${model}.bin`);
      // The store drops this model's metrics after the checkpoint we resume from (all of them on a fresh start).
      const seg = store.segment({ model });
      let resumeStep = -1;
      const evalNll = (params: Params): number =>
        tf.tidy(() => {
          const eta = tf.add(apply(params as NamedTensors, data.xTest), config.etaOffset);
          return -(tf.mean(family(eta).logProb(data.thetaTest)).dataSync()[0] as number);
        });
      const testRow = (step: number, nll: number): E1TestNllRow => ({
        kind: 'testNll',
        model,
        step,
        nll,
        exactNll: data.exactNll,
      });
      const everies: EveryCallback[] = [
        {
          every: config.evalEvery,
          atStart: true,
          fn: (info) => {
            const nll = evalNll(info.params);
            finalTestNll[model] = nll;
            seg.append([testRow(info.step, nll)]);
          },
        },
      ];
      if (model === 'full') {
        tracker = createTracker(encoder, params0, data.xTracked, config.trackEvery, (row) => {
          const r: E1NtkRow = { kind: 'ntk', model: 'full', ...row };
          lastNtk = r;
          seg.append([r]);
        });
        everies.push(tracker.callback);
      }
      const callbacks: FitCallbacks = {
        every: everies,
        onResume: (step) => {
          resumeStep = step;
          seg.resumeAt(step);
        },
        progressEvery: 50,
        onProgress: (p) =>
          ctx.progress({
            step: mi * config.steps + p.step,
            total: 2 * config.steps,
            loss: p.loss,
            phase: model,
          }),
      };
      const vars = variables(params0);
      const t0 = performance.now();
      try {
        const res = await fitObjective({
          params: vars,
          variational: (params, x) => family(tf.add(apply(params as NamedTensors, x), config.etaOffset)),
          objective,
          problem,
          optimizer: adam({ lr: config.lr0 }),
          schedule: inverseTimeLr(config.lr0, config.lrScale),
          steps: config.steps,
          batchSize: config.batchSize,
          rng: root.split('train'),
          callbacks,
          checkpoint: { path: ckpt, every: config.checkpointEvery, meta: { run: ctx.id, model } },
          resume: true,
        });
        skippedSteps[model] = res.skippedSteps;
        if (model === 'full')
          gramFinal = empiricalGramMinEigenvalue(encoder, res.params as NamedTensors, data.xTracked);
        finalTestNll[model] = evalNll(res.params);
        if (config.steps % config.evalEvery !== 0 && resumeStep < config.steps) {
          seg.append([testRow(config.steps, finalTestNll[model])]);
        }
      } finally {
        for (const v of Object.values(vars)) v.dispose();
      }
      ctx.timing(`train.${model}`, (performance.now() - t0) / 1000);
    }
    if (!lastNtk) {
      // resumed after the full network had finished: its last tracker row is on disk
      const rows = store.readMetrics().filter((r) => r.kind === 'ntk');
      const last = rows.reduce((a, r) => (a === undefined || r.step >= a.step ? r : a), rows[0]);
      if (last) lastNtk = e1NtkRowSchema.parse(last);
    }
    return {
      width: config.width,
      steps: config.steps,
      objective: objectiveName,
      exactNll: data.exactNll,
      finalTestNll,
      skippedSteps,
      jacobianDistance: lastNtk?.jacobianDistance ?? Number.NaN,
      ntkDistance: lastNtk?.ntkDistance ?? Number.NaN,
      ntkEig1: lastNtk?.eig1 ?? Number.NaN,
      ntkMinEigenvalue: gramInit,
      ntkMinEigenvalueFinal: gramFinal,
      infiniteNtk: infiniteGramSpectrum(data.xTracked),
    };
  } finally {
    normal?.observed.dispose();
    tracker?.dispose();
    lin.dispose();
    for (const t of Object.values(params0)) t.dispose();
    data.thetaTest.dispose();
    data.xTest.dispose();
    data.xTracked.dispose();
  }
}
