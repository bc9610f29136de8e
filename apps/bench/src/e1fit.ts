import { VonMises } from '@gcvi/distributions';
import { dense } from '@gcvi/encoders';
import { adam, fit, forwardKl, inverseTimeLr, type Problem } from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { E1, simulateE1 } from './e1.js';
import { summarize, type Timing } from './stats.js';

/**
 * The E1 problem for `fit`: θ `[n]` and x `[n, 2]` drawn on the JS side by `simulateE1` from the
 * stream `fit` passes (the same pairs the plain and fused variants draw from an equal stream).
 */
export function e1Problem(): Problem {
  return {
    simulate(n, rng) {
      const { theta, x } = simulateE1(rng as Rng, n);
      return { theta: tf.tensor1d(theta), x: tf.tensor2d(x, [n, 2]) };
    },
  };
}

export interface E1FitRun {
  /** Per-step wall times of the timed steps (between consecutive `onStep` calls). */
  readonly timing: Timing;
  /** Mean ms/step over the timed steps (total time / steps). */
  readonly meanMs: number;
  /** Loss of every step (warm-up included). */
  readonly losses: number[];
  readonly skippedSteps: number;
}

/**
 * E1 trained the way users and the experiments train it: `dense` (2 → width → 2, NTK
 * parameterization), q = `VonMises.fromNatural(f(x) + 1e-4)`, the `forward-kl` objective, `adam()`
 * with the inverse-time schedule, through `fit` of `@gcvi/objectives` (its skip-on-NaN check,
 * gradient norm, callbacks). One call of `fit` runs `warmup + steps` steps; a step's time is the
 * interval between consecutive `onStep` callbacks (so `fit`'s setup is excluded) and the first
 * `warmup` are dropped. The run's stream is `createRng(seed).split('train')`; `fit` draws the pairs
 * from its `fit/batch` child.
 */
export async function runE1Fit(width: number, batch: number, seed: number, warmup: number, steps: number) {
  const rng = createRng(seed);
  const enc = dense({ inputSize: 2, hiddenSizes: [width], outputSize: 2 });
  const init = enc.init(rng.split('init'));
  const params: Record<string, tf.Variable> = {};
  for (const [k, t] of Object.entries(init)) params[k] = tf.variable(t, true, `e1_fit_${k}_${nextId++}`);
  tf.dispose(Object.values(init));
  const stamps: number[] = [];
  const losses: number[] = [];
  try {
    // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
    const res = await fit({
      params,
      variational: (p, x) =>
        VonMises.fromNatural(tf.add(enc.apply(p, x), E1.etaShift), { validateArgs: false }),
      objective: forwardKl,
      problem: e1Problem(),
      optimizer: adam({ lr: E1.lr0 }),
      schedule: inverseTimeLr(E1.lr0, 10),
      steps: warmup + steps + 1,
      batchSize: batch,
      rng: rng.split('train'),
      callbacks: {
        onStep: (i) => {
          stamps.push(performance.now());
          losses.push(i.loss);
        },
      },
    });
    const times: number[] = [];
    for (let k = warmup + 1; k < stamps.length; k++) times.push(stamps[k]! - stamps[k - 1]!);
    const meanMs = (stamps[stamps.length - 1]! - stamps[warmup]!) / times.length;
    return { timing: summarize(times), meanMs, losses, skippedSteps: res.skippedSteps } satisfies E1FitRun;
  } finally {
    tf.dispose(Object.values(params));
  }
}

let nextId = 0;
