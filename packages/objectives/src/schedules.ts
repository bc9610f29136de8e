import { ConfigError, checkPositive, checkPositiveInt } from '@gcvi/runtime';

/** A learning-rate schedule: the rate used at 0-based step `n`. A pure function of `n`. */
export interface Schedule {
  /** For logs and checkpoints, e.g. `inverseTime(lr0=0.0001, scale=10)`. */
  readonly description: string;
  lr(step: number): number;
}

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) {
    throw new ConfigError('step', `a schedule takes a non-negative integer step, got ${step}`);
  }
}

/** lr(n) = lr. */
export function constantLr(lr: number): Schedule {
  checkPositive('lr', lr);
  return {
    description: `constant(lr=${lr})`,
    lr(step) {
      checkStep(step);
      return lr;
    },
  };
}

/** lr(n) = 1 / (1/lr0 + n/scale): the E1 schedule is `inverseTimeLr(1e-4, 10)`. */
export function inverseTimeLr(lr0: number, scale = 10): Schedule {
  checkPositive('lr0', lr0);
  checkPositive('scale', scale);
  return {
    description: `inverseTime(lr0=${lr0}, scale=${scale})`,
    lr(step) {
      checkStep(step);
      return 1 / (1 / lr0 + step / scale);
    },
  };
}

/**
 * lr(n) = lr0 for n < every, then lr0 / c with c = 2, 4, 6, … growing by 2 every `every` steps:
 * lr(n) = lr0 / (2 · floor(n / every)) once n ≥ every. The E2/E3 schedule is `stepDivideLr(lr0, 500)`
 * (DESIGN §2: "every 500 steps lr ← lr0 / c with c = 2, 4, 6, …").
 */
export function stepDivideLr(lr0: number, every = 500): Schedule {
  checkPositive('lr0', lr0);
  checkPositiveInt('every', every);
  return {
    description: `stepDivide(lr0=${lr0}, every=${every})`,
    lr(step) {
      checkStep(step);
      const k = Math.floor(step / every);
      return k === 0 ? lr0 : lr0 / (2 * k);
    },
  };
}
