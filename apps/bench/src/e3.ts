import { rotatedMnistModel } from '@gcvi/datasets';
import { generatorMlp, type NamedTensors } from '@gcvi/encoders';
import {
  type E3Config,
  type E4Config,
  e3IwboStep,
  e3LpStep,
  e3ObservedSet,
  e3Plan,
  e3RunRoot,
  e4Data,
  e4Plan,
  e4RunRoot,
  e4Step,
} from '@gcvi/experiments';
import { fit as runFit } from '@gcvi/objectives';
import { createRng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { summarize, type Timing } from './stats.js';

/*
 * E3 and E4 training steps (DESIGN §2): exactly the steps apps/experiments trains, built by the
 * experiment's own step functions (`e3LpStep`, `e3IwboStep` of e3/run.ts, `e4Step` of e4/run.ts,
 * exported by @gcvi/experiments) from the paper profile's configs resized to each case, and run by
 * fit() of @gcvi/objectives. python/e3_step.py is the same step in PyTorch.
 */

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

/** The experiment config of a case: the paper profile's run, resized to the case. */
export function caseConfig(c: E3Case, seed: number): E3Config | E4Config {
  switch (c.kind) {
    case 'e3-lp': {
      const base = e3Plan('paper').find((x) => x.method === 'forwardKl') as E3Config;
      return { ...base, setImages: c.images, setsPerStep: c.sets, seed };
    }
    case 'e3-iwbo': {
      const base = e3Plan('paper').find((x) => x.method === 'iwbo') as E3Config;
      return { ...base, particles: c.particles, minibatch: c.minibatch, seed };
    }
    case 'e4-lp':
      return { ...(e4Plan('paper').find((x) => x.method === 'forwardKl') as E4Config), seed };
    case 'e4-elbo':
      return {
        ...(e4Plan('paper').find((x) => x.method === 'elbo') as E4Config),
        particles: c.particles,
        seed,
      };
  }
}

export interface StepRun {
  readonly timing: Timing;
  /** Loss of every step (warm-up included). */
  readonly losses: number[];
  /** The parameters after the last step (only when asked for: `keepParams`). */
  readonly params?: Record<string, Float32Array>;
}

/**
 * Run the experiment's step (`e3LpStep` / `e3IwboStep` of e3/run.ts, `e4Step` of e4/run.ts, the
 * functions `runE3`/`runE4` train with) for `config.steps` steps through fit(), with the generator
 * `generator`; the first `warmup` steps are not timed. A step's time is the interval between
 * consecutive onStep callbacks (fit's setup excluded).
 */
export async function runE3Steps(
  kind: E3Case['kind'],
  config: E3Config | E4Config,
  generator: NamedTensors,
  warmup: number,
  keepParams = false,
): Promise<StepRun> {
  const stamps: number[] = [];
  const losses: number[] = [];
  const onStep = (i: { loss: number }) => {
    stamps.push(performance.now());
    losses.push(i.loss);
  };
  let params: Record<string, Float32Array> | undefined;
  const read = (p: Record<string, tf.Variable>) => {
    if (keepParams)
      params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.dataSync() as Float32Array]));
  };
  if (kind === 'e3-lp' || kind === 'e3-iwbo') {
    const c = config as E3Config;
    const model = rotatedMnistModel({ generator, nImages: c.observedImages, noiseSd: c.noiseSd });
    const root = e3RunRoot(c);
    if (kind === 'e3-lp') {
      const step = e3LpStep(model, root, c);
      try {
        const res = await runFit({ ...step.setup, callbacks: { onStep } });
        read(res.params as Record<string, tf.Variable>);
      } finally {
        step.dispose();
      }
    } else {
      const obs = e3ObservedSet(model, c.dataSeed);
      const step = e3IwboStep(model, root, obs.x, c);
      try {
        const res = await runFit({ ...step.setup, callbacks: { onStep } });
        read(res.params as Record<string, tf.Variable>);
      } finally {
        step.dispose();
        tf.dispose([obs.x, obs.z]);
      }
    }
  } else {
    const c = config as E4Config;
    const model = rotatedMnistModel({ generator, nImages: c.nImages, noiseSd: c.noiseSd });
    const data = e4Data(model, c.dataSeed);
    const step = e4Step(model, data, e4RunRoot(c), c);
    try {
      const res = await runFit({ ...step.setup, callbacks: { onStep } });
      read(res.params as Record<string, tf.Variable>);
    } finally {
      step.dispose();
      tf.dispose([data.images, data.x]);
    }
  }
  const times: number[] = [];
  for (let k = warmup + 1; k < stamps.length; k++) times.push(stamps[k]! - stamps[k - 1]!);
  return { timing: summarize(times), losses, ...(params ? { params } : {}) };
}

/**
 * Run `warmup + steps + 1` steps of one case (the paper config resized to the case, seed `seed`)
 * with a generator of random PyTorch-default weights (a step's cost does not depend on them).
 */
export async function runE3Case(c: E3Case, seed: number, warmup: number, steps: number): Promise<StepRun> {
  const gen = generatorMlp().init(createRng(seed).split('generator'));
  try {
    const config = { ...caseConfig(c, seed), steps: warmup + steps + 1 };
    return await runE3Steps(c.kind, config, gen, warmup);
  } finally {
    tf.dispose(Object.values(gen));
  }
}
