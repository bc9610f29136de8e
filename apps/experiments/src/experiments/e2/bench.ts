/**
 * Timing of one E2 training step (forward + backward + Adam update, both encoders) on the current
 * tfjs backend, for `pnpm bench`; `bench_torch.py` beside this file times the same step in PyTorch.
 */
import { type E2Objective, trainE2 } from './train.js';

export interface E2StepTiming {
  readonly objective: E2Objective;
  readonly nPoints: number;
  readonly width: number;
  readonly heads: number;
  /** Mean wall-clock ms per step over `reps` steps after `warmup` steps. */
  readonly msPerStep: number;
  readonly reps: number;
  readonly fusedAttention: boolean;
}

/** Time `reps` E2 steps (after `warmup`) per objective at the paper's size by default. */
export async function benchE2Step(
  options: {
    nPoints?: number;
    width?: number;
    heads?: number;
    reps?: number;
    warmup?: number;
    K?: number;
    fusedAttention?: boolean;
  } = {},
): Promise<E2StepTiming[]> {
  const nPoints = options.nPoints ?? 1000;
  const width = options.width ?? 64;
  const heads = options.heads ?? 4;
  const reps = options.reps ?? 5;
  const warmup = options.warmup ?? 2;
  const out: E2StepTiming[] = [];
  for (const objective of ['forward-kl', 'elbo'] as const) {
    let t0 = 0;
    let t1 = 0;
    await trainE2(
      {
        seed: 100,
        objective,
        parameterization: 'mean',
        nPoints,
        steps: warmup + reps,
        lr: 1e-3,
        lrEvery: 500,
        K: options.K ?? 100,
        width,
        heads,
        trueShift: 100,
        fusedAttention: options.fusedAttention === true,
      },
      {
        onStep: (step) => {
          if (step === warmup) t0 = performance.now();
          if (step === warmup + reps) t1 = performance.now();
        },
      },
    );
    out.push({
      objective,
      nPoints,
      width,
      heads,
      msPerStep: (t1 - t0) / reps,
      reps,
      fusedAttention: options.fusedAttention === true,
    });
  }
  return out;
}
