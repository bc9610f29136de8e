import { E3_TRUE_ANGLE, type RotatedMnistModel, rotateFlat } from '@gcvi/datasets';
import { Independent, Normal, VonMises } from '@gcvi/distributions';
import { mnistAngleEncoder, mnistLatentEncoder, type NamedTensors } from '@gcvi/encoders';
import {
  adam,
  type FitCallbacks,
  type FitSetup,
  fit as fitModel,
  forwardKl,
  iwbo,
  type Params,
  type Problem,
  stepDivideLr,
} from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { asRng } from '../../core/rng.js';
import type { RunContext } from '../../core/types.js';
import { rotatedModelForRun } from './generator.js';
import type { E3Config, E3RunResult } from './schema.js';

const TWO_PI = 2 * Math.PI;
export const wrap2pi = (a: number) => ((a % TWO_PI) + TWO_PI) % TWO_PI;
export const toDeg = (a: number) => (a * 180) / Math.PI;

/** What one E3 run returns (the schema is `e3RunResultSchema`). */
export type E3RunSummary = E3RunResult;

/** The fixed observed set: the first `observedImages` of a set drawn at 260° from `dataSeed`. */
export function observedSet(model: RotatedMnistModel, dataSeed: number) {
  return model.observedSet(createRng(dataSeed).split('e3/observed'));
}

function variables(p: NamedTensors): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(p)) {
    out[k] = tf.variable(v, true);
    v.dispose();
  }
  return out;
}

/** L_P problem: one simulated set per pair, target θ + offset (wrapped). */
export function lpProblem(model: RotatedMnistModel, setImages: number, offset: number): Problem {
  return {
    simulate(n, rng) {
      const thetas: number[] = [];
      const xs: tf.Tensor[] = [];
      for (let j = 0; j < n; j++) {
        const s = model.simulate(asRng(rng, 'e3 problem'), { nImages: setImages });
        thetas.push(wrap2pi(s.theta + offset));
        xs.push(s.x);
        s.z.dispose();
      }
      const x = tf.stack(xs);
      tf.dispose(xs);
      return { theta: tf.tensor1d(thetas), x };
    },
  };
}

/**
 * One E3 training setup: the parameters (fresh variables, owned by the caller: `dispose()`) and
 * everything `fit`/`initFit` needs except the loop's callbacks and checkpoints. `runE3` and the
 * bench (apps/bench) both build their steps here, so the bench times the experiment's step.
 */
export interface E3StepSetup {
  readonly setup: FitSetup;
  readonly params: Record<string, tf.Variable>;
  dispose(): void;
}

/** What the L_P step needs from an E3 config. */
export type E3LpStepConfig = Pick<
  E3Config,
  'setImages' | 'setsPerStep' | 'lr' | 'lrEvery' | 'steps' | 'initDeg'
>;

/**
 * The E3 L_P step (DESIGN §2 E3): the set-averaged angle encoder, q = von Mises from its natural
 * parameters, forward KL on simulated sets with the target θ + offset; init from `root/init`, the
 * fit stream `root/train`. `root` is `e3RunRoot(config)` in the experiment.
 */
export function e3LpStep(
  model: RotatedMnistModel,
  root: Rng,
  c: E3LpStepConfig,
): E3StepSetup & { apply: (p: NamedTensors, x: tf.Tensor) => tf.Tensor; offset: number } {
  const enc = mnistAngleEncoder();
  const params = variables(enc.init(root.split('init')));
  const offset = (c.initDeg * Math.PI) / 180;
  const setup: FitSetup = {
    params,
    variational: (p, x) => VonMises.fromNatural(enc.apply(p as NamedTensors, x), { validateArgs: false }),
    objective: forwardKl,
    problem: lpProblem(model, c.setImages, offset),
    optimizer: adam({ lr: c.lr }),
    ...(c.lrEvery ? { schedule: stepDivideLr(c.lr, c.lrEvery) } : {}),
    steps: c.steps,
    batchSize: c.setsPerStep,
    rng: root.split('train'),
  };
  return { setup, params, apply: enc.apply, offset, dispose: () => tf.dispose(Object.values(params)) };
}

/** What the IWBO step needs from an E3 config. */
export type E3IwboStepConfig = Pick<
  E3Config,
  'lr' | 'steps' | 'initDeg' | 'particles' | 'minibatch' | 'noiseSd'
>;

/**
 * The E3 IWBO step: θ a parameter (started at `initDeg`), a per-image Gaussian encoder for z,
 * IWBO with K particles on minibatches of the observed images `observed` `[n, 28, 28]`.
 */
export function e3IwboStep(
  model: RotatedMnistModel,
  root: Rng,
  observed: tf.Tensor,
  c: E3IwboStepConfig,
): E3StepSetup & { theta: tf.Variable } {
  const enc = mnistLatentEncoder();
  const d = model.latentDim;
  const offset = (c.initDeg * Math.PI) / 180;
  const theta0 = tf.scalar(offset);
  const params: Record<string, tf.Variable> = {
    ...variables(enc.init(root.split('init'))),
    theta: tf.variable(theta0, true),
  };
  theta0.dispose();
  const theta = params.theta as tf.Variable;
  const problem: Problem = {
    observed,
    logJoint(zs, x) {
      return tf.tidy(() => {
        const [K, B] = zs.shape as [number, number, number];
        const imgs = model.images(tf.reshape(zs, [K * B, d])); // [K*B, 28, 28]
        const rot = tf.reshape(rotateFlat(tf.reshape(imgs, [K * B, 784]), theta, 28, 28), [K, B, 784]);
        const r = tf.div(tf.sub(tf.reshape(x, [1, B, 784]), rot), c.noiseSd);
        const logLik = tf.add(
          tf.mul(-0.5, tf.sum(tf.square(r), 2)),
          784 * (-0.5 * Math.log(TWO_PI) - Math.log(c.noiseSd)),
        );
        const logPrior = tf.mul(-0.5, tf.add(tf.sum(tf.square(zs), 2), d * Math.log(TWO_PI)));
        return tf.add(logLik, logPrior); // [K, B]
      });
    },
  };
  const setup: FitSetup = {
    params,
    variational: (p, x) => {
      const out = enc.apply(p as NamedTensors, x);
      const B = out.shape[0] as number;
      const mean = tf.slice(out, [0, 0], [B, d]);
      const sd = tf.exp(tf.clipByValue(tf.slice(out, [0, d], [B, d]), -12, 3));
      return new Independent(new Normal(mean, sd, { validateArgs: false }), 1);
    },
    objective: iwbo,
    objectiveOptions: { K: c.particles },
    problem,
    optimizer: adam({ lr: c.lr }),
    steps: c.steps,
    batchSize: c.minibatch,
    rng: root.split('train'),
  };
  return { setup, params, theta, dispose: () => tf.dispose(Object.values(params)) };
}

/** The run's root stream: init and train streams are its children. */
export function e3RunRoot(c: Pick<E3Config, 'seed' | 'method' | 'initDeg'>): Rng {
  return createRng(c.seed).split(`e3/${c.method}/${c.initDeg}`);
}

/** The angle (radians) of the mode of q(θ | x) for one set x `[1, n, 28, 28]`. */
function lpMode(apply: (p: NamedTensors, x: tf.Tensor) => tf.Tensor, params: Params, x: tf.Tensor): number {
  return tf.tidy(() => {
    const eta = apply(params as NamedTensors, x).dataSync();
    return Math.atan2(eta[1] as number, eta[0] as number);
  });
}

export async function runE3(config: E3Config, ctx: RunContext): Promise<E3RunSummary> {
  const { gen, model } = await rotatedModelForRun(
    config.generator,
    config.observedImages,
    config.noiseSd,
    ctx,
  );
  const obs = observedSet(model, config.dataSeed);
  const root = e3RunRoot(config);
  const offset = (config.initDeg * Math.PI) / 180;
  const store = ctx.store;
  const ckpt = store.file('checkpoint.bin');
  // The store drops the metrics after the step fit resumes from (`onResume`), all of them on a fresh start.
  const metrics = store.segment();
  let resumeStep = -1;
  const onResume = (step: number) => {
    resumeStep = step;
    metrics.resumeAt(step);
  };
  const record = (step: number, angleRad: number) =>
    metrics.append([{ kind: 'angle', step, angleDeg: toDeg(wrap2pi(angleRad)) }]);
  const progress = (p: { step: number; loss: number }) =>
    ctx.progress({ step: p.step, total: config.steps, loss: p.loss, phase: config.method });
  let finalAngle = Number.NaN;
  let lastAngle = Number.NaN;
  let skipped = 0;
  // Tail averaging (the config's averageFrom): the estimate is that of the mean of the iterates.
  const average = config.averageFrom === undefined ? {} : { average: { from: config.averageFrom } };
  const t0 = performance.now();
  let observedGrid: string | undefined;
  let generatorSamples: string | undefined;
  const bytes = (px: ArrayLike<number>) =>
    Buffer.from(Uint8Array.from(px, (v) => Math.round(255 * Math.min(1, Math.max(0, v))))).toString('base64');
  try {
    if (config.method === 'forwardKl' && config.initDeg === 0) {
      const px = tf.tidy(() =>
        tf.slice(obs.x, [0, 0, 0], [Math.min(100, config.observedImages), 28, 28]).dataSync(),
      );
      observedGrid = bytes(px);
      generatorSamples = bytes(
        tf.tidy(() =>
          model
            .images(createRng(config.dataSeed).split('e3/samples').normalTensor([60, model.latentDim]))
            .dataSync(),
        ),
      );
    }
    if (config.method === 'forwardKl') {
      const step = e3LpStep(model, root, config);
      const xObs = tf.expandDims(obs.x, 0);
      const estimate = (params: Params) => lpMode(step.apply, params, xObs) - offset;
      const callbacks: FitCallbacks = {
        every: [{ every: config.evalEvery, atStart: true, fn: (i) => record(i.step, estimate(i.params)) }],
        progressEvery: Math.max(1, Math.min(50, config.evalEvery)),
        onProgress: progress,
        onResume,
      };
      try {
        const res = await fitModel({
          ...step.setup,
          ...average,
          callbacks,
          checkpoint: { path: ckpt, every: config.checkpointEvery, meta: { run: ctx.id } },
          resume: true,
        });
        skipped = res.skippedSteps;
        lastAngle = estimate(res.params);
        try {
          finalAngle = res.averaged ? estimate(res.averaged) : lastAngle;
        } finally {
          if (res.averaged) tf.dispose(Object.values(res.averaged));
        }
      } finally {
        xObs.dispose();
        step.dispose();
      }
    } else {
      const step = e3IwboStep(model, root, obs.x, config);
      const theta = step.theta;
      const callbacks: FitCallbacks = {
        every: [
          {
            every: config.evalEvery,
            atStart: true,
            fn: (i) => record(i.step, theta.dataSync()[0] as number),
          },
        ],
        progressEvery: Math.max(1, Math.min(50, config.evalEvery)),
        onProgress: progress,
        onResume,
      };
      try {
        const res = await fitModel({
          ...step.setup,
          ...average,
          callbacks,
          checkpoint: { path: ckpt, every: config.checkpointEvery, meta: { run: ctx.id } },
          resume: true,
        });
        skipped = res.skippedSteps;
        lastAngle = (res.params.theta as tf.Variable).dataSync()[0] as number;
        try {
          finalAngle = res.averaged ? (res.averaged.theta!.dataSync()[0] as number) : lastAngle;
        } finally {
          if (res.averaged) tf.dispose(Object.values(res.averaged));
        }
      } finally {
        step.dispose();
      }
    }
    if (config.steps % config.evalEvery !== 0 && resumeStep < config.steps) record(config.steps, lastAngle);
  } finally {
    tf.dispose([obs.x, obs.z, ...Object.values(gen.params)]);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  ctx.timing('train', trainSeconds);
  ctx.timing('msPerStep', (1000 * trainSeconds) / Math.max(1, config.steps - Math.max(0, resumeStep)));
  return {
    method: config.method,
    initDeg: config.initDeg,
    finalAngleDeg: toDeg(wrap2pi(finalAngle)),
    ...(config.averageFrom === undefined ? {} : { lastIterateAngleDeg: toDeg(wrap2pi(lastAngle)) }),
    trueAngleDeg: toDeg(E3_TRUE_ANGLE),
    steps: config.steps,
    skippedSteps: skipped,
    generator: gen.description,
    ...(observedGrid ? { observedGrid } : {}),
    ...(generatorSamples ? { generatorSamples } : {}),
  };
}
