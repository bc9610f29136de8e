import { existsSync } from 'node:fs';
import { type CanonicalSimulator, canonicalSimulator } from '@gcvi/datasets';
import { VonMises } from '@gcvi/distributions';
import { dense, linearize, type NamedTensors } from '@gcvi/encoders';
import {
  adam,
  type EveryCallback,
  type FitCallbacks,
  fit as fitObjective,
  forwardKl,
  inverseTimeLr,
  type Params,
  type Problem,
  readCheckpoint,
} from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { RunContext } from '../../core/types.js';
import type { E1Config } from './config.js';
import {
  createTracker,
  empiricalGramMinEigenvalue,
  infiniteGramMinEigenvalue,
  type TrackerHandle,
} from './track.js';

export const MODELS = ['full', 'linear'] as const;
export type E1Model = (typeof MODELS)[number];

/** What one E1 run returns (its `summary.json` result). */
export interface E1RunSummary {
  readonly width: number;
  readonly steps: number;
  /** Exact-posterior NLL on the run's test set (the same set for every width). */
  readonly exactNll: number;
  /** Test NLL at the last evaluation, per model. */
  readonly finalTestNll: Record<E1Model, number>;
  readonly skippedSteps: Record<E1Model, number>;
  /** Last tracked ‖J_t − J_0‖_F (mean over tracked x), full network. */
  readonly jacobianDistance: number;
  /** Last tracked ‖K_t(x,x) − K_0(x,x)‖_F (mean over tracked x), full network. */
  readonly ntkDistance: number;
  /**
   * Smallest eigenvalue of the empirical NTK Gram matrix ((N·2)², tracked inputs × outputs) at
   * initialization. Singular when 2·width < 2·N: at φ0 only the last layer's 2·width parameters
   * have a nonzero gradient.
   */
  readonly ntkMinEigenvalue: number;
  /** The same at the end of training (all parameters contribute). */
  readonly ntkMinEigenvalueFinal: number;
  /** Smallest eigenvalue of the infinite-width NTK Gram (N × N) on the tracked inputs: last-layer part (the limit at φ0). */
  readonly infiniteNtkMinEigenvalue: number;
  readonly trainSeconds: Record<E1Model, number>;
}

/**
 * The E1 problem with θ as `[n]` (VonMises has event shape []: `logProb` of `[n]` values for `[n]`
 * observations). The simulator returns θ as `[n, 1]`, which would broadcast to `[n, n]`.
 */
function flatThetaProblem(sim: CanonicalSimulator): Problem {
  return {
    simulate(n, rng) {
      const { theta, x } = sim.simulate(n, rng as Rng);
      const flat = tf.reshape(theta, [n]);
      theta.dispose();
      return { theta: flat, x };
    },
  };
}

/** The tracked inputs of a config (from `dataSeed` only; the same in every run of a profile). */
export function e1TrackedInputs(config: E1Config): tf.Tensor {
  const tracked = canonicalSimulator({ sigma: config.sigma }).simulate(
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
  const tracked = sim.simulate(config.trackSize, root.split('e1/tracked'));
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

export async function runE1(config: E1Config, ctx: RunContext): Promise<E1RunSummary> {
  const data = e1FixedData(config);
  const problem = flatThetaProblem(data.sim);
  const encoder = dense({ inputSize: 2, hiddenSizes: [config.width], outputSize: 2 });
  const root = createRng(config.seed);
  const params0 = encoder.init(root.split('init'));
  const lin = linearize(encoder, params0);
  const store = ctx.store;
  const finalTestNll = {} as Record<E1Model, number>;
  const skippedSteps = {} as Record<E1Model, number>;
  const trainSeconds = {} as Record<E1Model, number>;
  let tracker: TrackerHandle | undefined;
  const gramInit = empiricalGramMinEigenvalue(encoder, params0, data.xTracked);
  let gramFinal = Number.NaN;
  try {
    for (const [mi, model] of MODELS.entries()) {
      const apply = model === 'full' ? encoder.apply : lin.apply;
      const ckpt = store.file(`checkpoint-${model}.bin`);
      // Metrics after the checkpoint we resume from (or all of this model's, if none) are redone.
      const resumeStep = existsSync(ckpt) ? (await readCheckpoint(ckpt)).state.step : -1;
      store.retainMetrics((r) => r.model !== model || r.step <= resumeStep);
      const evalNll = (params: Params): number =>
        tf.tidy(() => {
          const eta = tf.add(apply(params as NamedTensors, data.xTest), config.etaOffset);
          const q = VonMises.fromNatural(eta, { validateArgs: false });
          return -(tf.mean(q.logProb(data.thetaTest)).dataSync()[0] as number);
        });
      const everies: EveryCallback[] = [
        {
          every: config.evalEvery,
          atStart: true,
          fn: (info) => {
            const nll = evalNll(info.params);
            finalTestNll[model] = nll;
            store.appendMetrics([{ kind: 'testNll', model, step: info.step, nll, exactNll: data.exactNll }]);
          },
        },
      ];
      if (model === 'full') {
        tracker = createTracker(encoder, params0, data.xTracked, config.trackEvery, (row) =>
          store.appendMetrics([{ kind: 'ntk', model, ...row }]),
        );
        everies.push(tracker.callback);
      }
      const callbacks: FitCallbacks = {
        every: everies,
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
          variational: (params, x) =>
            VonMises.fromNatural(tf.add(apply(params as NamedTensors, x), config.etaOffset), {
              validateArgs: false,
            }),
          objective: forwardKl,
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
          store.appendMetrics([
            { kind: 'testNll', model, step: config.steps, nll: finalTestNll[model], exactNll: data.exactNll },
          ]);
        }
      } finally {
        for (const v of Object.values(vars)) v.dispose();
      }
      trainSeconds[model] = (performance.now() - t0) / 1000;
    }
    const rows = store.readMetrics().filter((r) => r.kind === 'ntk');
    const last = rows.reduce((a, r) => (a === undefined || r.step >= a.step ? r : a), rows[0]);
    return {
      width: config.width,
      steps: config.steps,
      exactNll: data.exactNll,
      finalTestNll,
      skippedSteps,
      jacobianDistance: Number(last?.jacobianDistance ?? Number.NaN),
      ntkDistance: Number(last?.ntkDistance ?? Number.NaN),
      ntkMinEigenvalue: gramInit,
      ntkMinEigenvalueFinal: gramFinal,
      infiniteNtkMinEigenvalue: infiniteGramMinEigenvalue(data.xTracked, 'lastLayer'),
      trainSeconds,
    };
  } finally {
    tracker?.dispose();
    lin.dispose();
    for (const t of Object.values(params0)) t.dispose();
    data.thetaTest.dispose();
    data.xTest.dispose();
    data.xTracked.dispose();
  }
}
