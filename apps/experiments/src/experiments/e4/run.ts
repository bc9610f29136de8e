import { E3_TRUE_ANGLE, type RotatedMnistModel, rotateImages } from '@gcvi/datasets';
import { Normal } from '@gcvi/distributions';
import { mnistAngleEncoder, type NamedTensors } from '@gcvi/encoders';
import {
  adam,
  elbo,
  type FitCallbacks,
  type FitSetup,
  fit as fitModel,
  forwardKl,
  type Params,
  type Problem,
  stepDivideLr,
} from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { asRng } from '../../core/rng.js';
import type { RunContext } from '../../core/types.js';
import { rotatedModelForRun } from '../e3/generator.js';
import { toDeg, wrap2pi } from '../e3/run.js';
import { type GridPosterior, gaussianMetrics, gridPosterior, mergeNodes } from './posterior.js';
import type { E4Config, E4RunResult } from './schema.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** What one E4 run returns (the schema is `e4RunResultSchema`). */
export type E4RunSummary = E4RunResult;

/** The known latents and the observed set (260°), from `dataSeed` only (shared by both runs). */
export function e4Data(model: RotatedMnistModel, dataSeed: number) {
  const set = model.observedSet(createRng(dataSeed).split('e4/observed'));
  const images = model.images(set.z);
  set.z.dispose();
  return { images, x: set.x };
}

/** What the E4 step needs from an E4 config. */
export type E4StepConfig = Pick<
  E4Config,
  | 'method'
  | 'lr'
  | 'lrEvery'
  | 'setsPerStep'
  | 'steps'
  | 'particles'
  | 'qSd'
  | 'meanScale'
  | 'noiseSd'
  | 'nImages'
>;

/** The run's root stream: init and train streams are its children. */
export function e4RunRoot(c: Pick<E4Config, 'seed' | 'method'>): Rng {
  return createRng(c.seed).split(`e4/${c.method}`);
}

/**
 * One E4 training setup (DESIGN §2 E4), shared by `runE4` and the bench (apps/bench): the angle
 * encoder (init from `root/init`), q(θ | x) = Normal(meanScale · η1, qSd), and either L_P (one
 * simulated set of the known images per step) or the ELBO with K reparameterized angles on the
 * observed set; the fit stream is `root/train`. `dispose()` frees the parameters and `xObs`.
 */
export function e4Step(
  model: RotatedMnistModel,
  data: { images: tf.Tensor; x: tf.Tensor },
  root: Rng,
  c: E4StepConfig,
): {
  setup: FitSetup;
  params: Record<string, tf.Variable>;
  /** The observed set as one observation `[1, n, 28, 28]`. */
  xObs: tf.Tensor;
  /** The mean of q(θ | x) `[B]`. */
  qOf: (params: Params, x: tf.Tensor) => tf.Tensor;
  dispose(): void;
} {
  const enc = mnistAngleEncoder();
  const p0 = enc.init(root.split('init'));
  const params: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(p0)) {
    params[k] = tf.variable(v, true);
    v.dispose();
  }
  const xObs = tf.expandDims(data.x, 0); // one observation: the set
  const qOf = (p: Params, x: tf.Tensor) =>
    tf.tidy(() =>
      tf.mul(tf.squeeze(tf.slice(enc.apply(p as NamedTensors, x), [0, 0], [-1, 1]), [1]), c.meanScale),
    );
  const n = c.nImages;
  const problem: Problem =
    c.method === 'forwardKl'
      ? {
          simulate(b, rng) {
            const thetas: number[] = [];
            const xs: tf.Tensor[] = [];
            for (let j = 0; j < b; j++) {
              const th = 2 * Math.PI * asRng(rng, 'e4 problem').uniform();
              thetas.push(th);
              xs.push(
                tf.tidy(() => {
                  const mean = rotateImages(data.images, th);
                  return tf.add(mean, asRng(rng, 'e4 problem').normalTensor([n, 28, 28], 0, c.noiseSd));
                }),
              );
            }
            const x = tf.stack(xs);
            tf.dispose(xs);
            return { theta: tf.tensor1d(thetas), x };
          },
        }
      : {
          observed: xObs,
          logJoint(theta, x) {
            return tf.tidy(() => {
              const [K, B] = theta.shape as [number, number];
              if (B !== 1) throw new Error('e4: one observed set expected');
              const ll = model.logLikelihoodAngles(tf.reshape(theta, [K]), data.images, tf.squeeze(x, [0]));
              return tf.reshape(tf.sub(ll, LOG_2PI), [K, 1]);
            });
          },
        };
  const setup: FitSetup = {
    params,
    variational: (p, x) => new Normal(qOf(p, x), c.qSd, { validateArgs: false }),
    objective: c.method === 'forwardKl' ? forwardKl : elbo,
    ...(c.method === 'elbo' ? { objectiveOptions: { K: c.particles } } : {}),
    problem,
    optimizer: adam({ lr: c.lr }),
    ...(c.lrEvery ? { schedule: stepDivideLr(c.lr, c.lrEvery) } : {}),
    steps: c.steps,
    batchSize: c.method === 'forwardKl' ? (c.setsPerStep ?? 1) : 1,
    rng: root.split('train'),
  };
  return { setup, params, xObs, qOf, dispose: () => tf.dispose([xObs, ...Object.values(params)]) };
}

/** log p(x | θ) at many angles, in chunks (float64 out). */
export function logLikAt(
  model: RotatedMnistModel,
  images: tf.Tensor,
  x: tf.Tensor,
  angles: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(angles.length);
  const chunk = 16;
  for (let i = 0; i < angles.length; i += chunk) {
    const part = Array.from(
      { length: Math.min(chunk, angles.length - i) },
      (_, k) => angles[i + k] as number,
    );
    const v = tf.tidy(() => model.logLikelihoodAngles(tf.tensor1d(part), images, x).dataSync());
    out.set(Float64Array.from(v), i);
  }
  return out;
}

/** Exact posterior of θ on a coarse grid over the circle plus a fine window at its peak. */
export function e4Posterior(
  model: RotatedMnistModel,
  images: tf.Tensor,
  x: tf.Tensor,
  c: E4Config,
): GridPosterior {
  const nCoarse = Math.round(360 / c.gridCoarseDeg);
  const coarse = Float64Array.from({ length: nCoarse }, (_, i) => (i * 2 * Math.PI) / nCoarse);
  const llC = logLikAt(model, images, x, coarse);
  let best = 0;
  for (let i = 1; i < nCoarse; i++) if ((llC[i] as number) > (llC[best] as number)) best = i;
  const half = (c.gridFineHalfWidthDeg * Math.PI) / 180;
  const fine = Float64Array.from(
    { length: c.gridFinePoints },
    (_, i) => (coarse[best] as number) - half + (2 * half * i) / (c.gridFinePoints - 1),
  );
  const nodes = mergeNodes(coarse, fine);
  const ll = logLikAt(model, images, x, nodes);
  return gridPosterior(nodes, ll);
}

export async function runE4(config: E4Config, ctx: RunContext): Promise<E4RunSummary> {
  const { gen, model } = await rotatedModelForRun(config.generator, config.nImages, config.noiseSd, ctx);
  const data = e4Data(model, config.dataSeed);
  const post = e4Posterior(model, data.images, data.x, config);
  const posteriorSd = Math.sqrt(
    post.density.reduce((s, d, i) => {
      if (i + 1 >= post.nodes.length) return s;
      const t = post.nodes[i] as number;
      const dt = (post.nodes[i + 1] as number) - t;
      const diff = wrap2pi(t - post.mode + Math.PI) - Math.PI;
      return s + d * diff * diff * dt;
    }, 0),
  );
  const root = e4RunRoot(config);
  const store = ctx.store;
  const ckpt = store.file('checkpoint.bin');
  // The store drops the metrics after the step fit resumes from (`onResume`), all of them on a fresh start.
  const metrics = store.segment();
  let resumeStep = -1;
  const trainer = e4Step(model, data, root, config);
  const { xObs, qOf } = trainer;
  const evaluate = (step: number, params: Params, write = true) => {
    const mu = tf.tidy(() => qOf(params, xObs).dataSync()[0] as number);
    const m = gaussianMetrics(post, mu, config.qSd, E3_TRUE_ANGLE);
    const row = { kind: 'metrics', step, ...m, mu, angleDeg: toDeg(wrap2pi(mu)) };
    if (write) metrics.append([row]);
    return row;
  };
  let skipped = 0;
  let last: ReturnType<typeof evaluate> | undefined;
  let lastIterate: ReturnType<typeof evaluate> | undefined;
  const t0 = performance.now();
  const callbacks: FitCallbacks = {
    every: [
      {
        every: config.evalEvery,
        atStart: true,
        fn: (i) => {
          last = evaluate(i.step, i.params);
        },
      },
    ],
    progressEvery: Math.max(1, Math.min(50, config.evalEvery)),
    onProgress: (p) =>
      ctx.progress({ step: p.step, total: config.steps, loss: p.loss, phase: config.method }),
    onResume: (step) => {
      resumeStep = step;
      metrics.resumeAt(step);
    },
  };
  try {
    const res = await fitModel({
      ...trainer.setup,
      ...(config.averageFrom === undefined ? {} : { average: { from: config.averageFrom } }),
      callbacks,
      checkpoint: { path: ckpt, every: config.checkpointEvery, meta: { run: ctx.id } },
      resume: true,
    });
    skipped = res.skippedSteps;
    // the final row: written unless this session (or the one it resumed) already wrote it
    const written =
      last?.step === config.steps ||
      (res.resumedFrom === config.steps && config.steps % config.evalEvery === 0);
    if (!last || last.step !== config.steps) last = evaluate(config.steps, res.params, !written);
    if (res.averaged) {
      try {
        lastIterate = last;
        last = evaluate(config.steps, res.averaged, false);
      } finally {
        tf.dispose(Object.values(res.averaged));
      }
    }
  } finally {
    trainer.dispose();
    tf.dispose([data.images, data.x, ...Object.values(gen.params)]);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  ctx.timing('train', trainSeconds);
  ctx.timing('msPerStep', (1000 * trainSeconds) / Math.max(1, config.steps - Math.max(0, resumeStep)));
  const { forwardKl: fk, reverseKl, elbo: el, nll, angleDeg } = last;
  return {
    method: config.method,
    final: { forwardKl: fk, reverseKl, elbo: el, nll, angleDeg },
    ...(lastIterate
      ? {
          lastIterate: {
            forwardKl: lastIterate.forwardKl,
            reverseKl: lastIterate.reverseKl,
            elbo: lastIterate.elbo,
            nll: lastIterate.nll,
            angleDeg: lastIterate.angleDeg,
          },
        }
      : {}),
    logEvidence: post.logEvidence,
    posteriorModeDeg: toDeg(post.mode),
    posteriorSd,
    trueAngleDeg: toDeg(E3_TRUE_ANGLE),
    steps: config.steps,
    skippedSteps: skipped,
    generator: gen.description,
  };
}
