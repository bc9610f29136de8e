import { describe, expect, it } from 'vitest';
import { e2Claims } from './claims.js';
import type { E2Objective } from './schema.js';
import type { E2Run } from './summary.js';

/** One finished replicate with the given mode of q(S | X) (the rest fixed and in order). */
function run(
  seed: number,
  objective: E2Objective,
  parameterization: 'mean' | 'natural',
  modeS: number,
): E2Run {
  const trueZ = [80, 90, 100, 110, 120];
  return {
    experiment: 'e2',
    id: `${seed}-${objective}-${parameterization}`,
    dir: '',
    metrics: [],
    config: { seed, objective, parameterization } as E2Run['config'],
    summary: {
      seed,
      objective,
      parameterization,
      trueZ,
      trueShift: 100,
      modeZ: trueZ,
      modeS,
      sdZ: [1, 1, 1, 1, 1],
      sdS: 1,
      inOrder: objective === 'forward-kl',
      matched: true,
      l1: 0,
      finalLoss: 0,
      stepsDone: 10,
      skippedSteps: 0,
    },
  };
}

/** 20 replicates per cell; `lpOff` / `elOff` of them have their shift mode 5 away from 100. */
function cells(lpOff: number, elOff: number): E2Run[] {
  const out: E2Run[] = [];
  for (let i = 0; i < 20; i++) {
    for (const p of ['mean', 'natural'] as const) {
      out.push(run(100 + i, 'forward-kl', p, i < lpOff ? 105 : 100.5));
      out.push(run(100 + i, 'elbo', p, i < elOff ? 94 : 99.5));
    }
  }
  return out;
}

const shift = (runs: E2Run[]) => e2Claims(runs).find((c) => c.id === 'e2-shift-mode')!;

describe('e2-shift-mode claim (share within ±2 of 100, fixed in studies/e2-figure-2.md)', () => {
  it('passes when L_P has ≥ 80% within ±2 and the ELBO ≤ 50%, in both parameterizations', () => {
    expect(shift(cells(4, 10)).status).toBe('pass');
    expect(shift(cells(4, 10)).values['forwardKl.natural.within2']).toBeCloseTo(0.8, 12);
    expect(shift(cells(4, 10)).values['elbo.mean.within2']).toBeCloseTo(0.5, 12);
  });

  it('fails when L_P is imprecise or the ELBO does not scatter', () => {
    expect(shift(cells(5, 10)).status).toBe('fail'); // L_P 75%
    expect(shift(cells(0, 9)).status).toBe('fail'); // ELBO 55%
    expect(shift(cells(0, 0)).status).toBe('fail'); // both at 100: the median claim's blind spot
  });

  it('is n/a with fewer than 20 replicates per cell', () => {
    expect(shift(cells(0, 20).slice(0, 40)).status).toBe('n/a');
  });
});
