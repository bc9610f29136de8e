import { type RotatedMnistModel, rotatedMnistModel, rotateFlat, rotateImages } from '@gcvi/datasets';
import { Independent, Normal, VonMises } from '@gcvi/distributions';
import { generatorMlp, mnistAngleEncoder, mnistLatentEncoder, type NamedTensors } from '@gcvi/encoders';
import { adam, elbo, forwardKl, iwbo, type Params, type Problem, fit as runFit } from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { summarize, type Timing } from './stats.js';

/*
 * E3 and E4 training steps (DESIGN §2) the way apps/experiments runs them: the rotated-MNIST model
 * of @gcvi/datasets (generator forward, rotation, noise), the encoders of @gcvi/encoders, the
 * distributions of @gcvi/distributions, the forward-kl / iwbo / elbo objectives and adam() trained
 * by fit() of @gcvi/objectives. The problems below are copies of the ones in
 * apps/experiments/src/experiments/e3/run.ts (lpProblem, the IWBO logJoint) and e4/run.ts (the
 * simulate and logJoint closures); python/e3_step.py is the same step in PyTorch.
 *
 * The generator has random weights (PyTorch-default init, generatorMlp().init): a step's cost does
 * not depend on the weights' values.
 */

const TWO_PI = 2 * Math.PI;
const LOG_2PI = Math.log(TWO_PI);
const wrap2pi = (a: number) => ((a % TWO_PI) + TWO_PI) % TWO_PI;
export const NOISE_SD = 0.01;

export type E3Case =
  | { kind: 'e3-lp'; sets: number; images: number }
  | { kind: 'e3-iwbo'; particles: number; minibatch: number }
  | { kind: 'e4-lp' }
  | { kind: 'e4-elbo'; particles: number };

/** The E3/E4 rows of the bench (DESIGN §2 and issue 16). */
export const E3_CASES: readonly E3Case[] = [
  { kind: 'e3-lp', sets: 8, images: 16 },
  { kind: 'e3-lp', sets: 1, images: 1000 },
  { kind: 'e3-iwbo', particles: 100, minibatch: 32 },
  { kind: 'e3-iwbo', particles: 1000, minibatch: 32 },
  { kind: 'e4-lp' },
  { kind: 'e4-elbo', particles: 16 },
  { kind: 'e4-elbo', particles: 1000 },
];

/** The case's name here and in python/e3_step.py (`--cases`). */
export function caseKey(c: E3Case): string {
  switch (c.kind) {
    case 'e3-lp':
      return `e3-lp:${c.sets}x${c.images}`;
    case 'e3-iwbo':
      return `e3-iwbo:${c.particles}`;
    case 'e4-lp':
      return 'e4-lp';
    case 'e4-elbo':
      return `e4-elbo:${c.particles}`;
  }
}

/** A readable row label. */
export function caseLabel(c: E3Case): string {
  switch (c.kind) {
    case 'e3-lp':
      return `E3 L_P, ${c.sets} × ${c.images} images`;
    case 'e3-iwbo':
      return `E3 IWBO, ${c.minibatch} images × K ${c.particles}`;
    case 'e4-lp':
      return 'E4 L_P, 100 images';
    case 'e4-elbo':
      return `E4 ELBO, K ${c.particles}`;
  }
}

function variables(p: NamedTensors, tag: string): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(p)) {
    out[k] = tf.variable(v, true, `bench_${tag}_${k}_${nextId++}`);
    v.dispose();
  }
  return out;
}
let nextId = 0;

/** apps/experiments e3/run.ts `lpProblem`: one simulated set per pair, target θ + offset (wrapped). */
export function e3LpProblem(model: RotatedMnistModel, setImages: number, offset: number): Problem {
  return {
    simulate(n, rng) {
      const thetas: number[] = [];
      const xs: tf.Tensor[] = [];
      for (let j = 0; j < n; j++) {
        const s = model.simulate(rng as Rng, { nImages: setImages });
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

/** apps/experiments e3/run.ts IWBO problem: logJoint(z [K, B, d], x [B, 28, 28]) → [K, B]. */
export function e3IwboProblem(model: RotatedMnistModel, observed: tf.Tensor, theta: tf.Variable): Problem {
  const d = model.latentDim;
  return {
    observed,
    logJoint(zs, x) {
      return tf.tidy(() => {
        const [K, B] = zs.shape as [number, number, number];
        const imgs = model.images(tf.reshape(zs, [K * B, d]));
        const rot = tf.reshape(rotateFlat(tf.reshape(imgs, [K * B, 784]), theta, 28, 28), [K, B, 784]);
        const r = tf.div(tf.sub(tf.reshape(x, [1, B, 784]), rot), model.noiseSd);
        const logLik = tf.add(
          tf.mul(-0.5, tf.sum(tf.square(r), 2)),
          784 * (-0.5 * LOG_2PI - Math.log(model.noiseSd)),
        );
        const logPrior = tf.mul(-0.5, tf.add(tf.sum(tf.square(zs), 2), d * LOG_2PI));
        return tf.add(logLik, logPrior);
      });
    },
  };
}

export interface StepRun {
  readonly timing: Timing;
  /** Loss of every step (warm-up included). */
  readonly losses: number[];
}

/**
 * Run `warmup + steps` steps of one case through fit(); a step's time is the interval between
 * consecutive onStep callbacks (fit's setup excluded).
 */
export async function runE3Case(c: E3Case, seed: number, warmup: number, steps: number): Promise<StepRun> {
  const rng = createRng(seed);
  const gen = generatorMlp().init(rng.split('generator'));
  const nImages = c.kind === 'e4-lp' || c.kind === 'e4-elbo' ? 100 : 1000;
  const model = rotatedMnistModel({ generator: gen, nImages, noiseSd: NOISE_SD });
  const stamps: number[] = [];
  const losses: number[] = [];
  const onStep = (i: { loss: number }) => {
    stamps.push(performance.now());
    losses.push(i.loss);
  };
  const total = warmup + steps + 1;
  const owned: tf.Tensor[] = [...Object.values(gen)];
  try {
    if (c.kind === 'e3-lp') {
      const enc = mnistAngleEncoder();
      const vars = variables(enc.init(rng.split('init')), 'e3lp');
      owned.push(...Object.values(vars));
      await runFit({
        params: vars,
        variational: (params, x) =>
          VonMises.fromNatural(enc.apply(params as NamedTensors, x), { validateArgs: false }),
        objective: forwardKl,
        problem: e3LpProblem(model, c.images, 0),
        optimizer: adam({ lr: 1e-3 }),
        steps: total,
        batchSize: c.sets,
        rng: rng.split('train'),
        callbacks: { onStep },
      });
    } else if (c.kind === 'e3-iwbo') {
      const obs = model.observedSet(rng.split('observed'));
      owned.push(obs.x, obs.z);
      const enc = mnistLatentEncoder();
      const d = model.latentDim;
      const theta = tf.variable(tf.scalar(0), true, `bench_e3_theta_${nextId++}`);
      const vars = { ...variables(enc.init(rng.split('init')), 'e3iwbo'), theta };
      owned.push(...Object.values(vars));
      await runFit({
        params: vars,
        variational: (params: Params, x: tf.Tensor) => {
          const out = enc.apply(params as NamedTensors, x);
          const B = out.shape[0] as number;
          const mean = tf.slice(out, [0, 0], [B, d]);
          const sd = tf.exp(tf.clipByValue(tf.slice(out, [0, d], [B, d]), -12, 3));
          return new Independent(new Normal(mean, sd, { validateArgs: false }), 1);
        },
        objective: iwbo,
        objectiveOptions: { K: c.particles },
        problem: e3IwboProblem(model, obs.x, theta),
        optimizer: adam({ lr: 1e-2 }),
        steps: total,
        batchSize: c.minibatch,
        rng: rng.split('train'),
        callbacks: { onStep },
      });
    } else {
      const set = model.observedSet(rng.split('observed'));
      const images = model.images(set.z);
      set.z.dispose();
      const xObs = tf.expandDims(set.x, 0);
      owned.push(images, set.x, xObs);
      const enc = mnistAngleEncoder();
      const vars = variables(enc.init(rng.split('init')), 'e4');
      owned.push(...Object.values(vars));
      const qOf = (params: Params, x: tf.Tensor) =>
        tf.tidy(() =>
          tf.mul(tf.squeeze(tf.slice(enc.apply(params as NamedTensors, x), [0, 0], [-1, 1]), [1]), 0.5),
        );
      const problem: Problem =
        c.kind === 'e4-lp'
          ? {
              simulate(b, r) {
                const thetas: number[] = [];
                const xs: tf.Tensor[] = [];
                for (let j = 0; j < b; j++) {
                  const th = TWO_PI * (r as Rng).uniform();
                  thetas.push(th);
                  xs.push(
                    tf.tidy(() =>
                      tf.add(rotateImages(images, th), (r as Rng).normalTensor([100, 28, 28], 0, NOISE_SD)),
                    ),
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
                  const [K] = theta.shape as [number, number];
                  const ll = model.logLikelihoodAngles(tf.reshape(theta, [K]), images, tf.squeeze(x, [0]));
                  return tf.reshape(tf.sub(ll, LOG_2PI), [K, 1]);
                });
              },
            };
      await runFit({
        params: vars,
        variational: (params, x) => new Normal(qOf(params, x), 0.5, { validateArgs: false }),
        objective: c.kind === 'e4-lp' ? forwardKl : elbo,
        ...(c.kind === 'e4-elbo' ? { objectiveOptions: { K: c.particles } } : {}),
        problem,
        optimizer: adam({ lr: 1e-3 }),
        steps: total,
        batchSize: 1,
        rng: rng.split('train'),
        callbacks: { onStep },
      });
    }
  } finally {
    tf.dispose(owned);
  }
  const times: number[] = [];
  for (let k = warmup + 1; k < stamps.length; k++) times.push(stamps[k]! - stamps[k - 1]!);
  return { timing: summarize(times), losses };
}
