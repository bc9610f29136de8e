import { describe, expect, it } from 'vitest';
import { constantLr, inverseTimeLr, stepDivideLr } from '../src/index.js';

describe('schedules', () => {
  it('constant', () => {
    const s = constantLr(0.01);
    expect([0, 1, 1e6].map((n) => s.lr(n))).toEqual([0.01, 0.01, 0.01]);
  });

  it('inverse time: 1 / (1/lr0 + n/10) (E1)', () => {
    const s = inverseTimeLr(1e-4, 10);
    expect(s.lr(0)).toBeCloseTo(1e-4, 15);
    // n = 100000: 1 / (10000 + 10000) = 5e-5
    expect(s.lr(100_000)).toBeCloseTo(5e-5, 15);
    expect(s.lr(200_000)).toBeCloseTo(1 / 30_000, 15);
  });

  it('step divide: lr0, then lr0/2, lr0/4, lr0/6 every 500 steps (E2, E3)', () => {
    const s = stepDivideLr(1e-3, 500);
    const at = [0, 499, 500, 999, 1000, 1499, 1500, 49_999].map((n) => s.lr(n));
    expect(at).toEqual([1e-3, 1e-3, 1e-3 / 2, 1e-3 / 2, 1e-3 / 4, 1e-3 / 4, 1e-3 / 6, 1e-3 / 198]);
  });

  it('bad arguments name themselves', () => {
    expect(() => constantLr(0)).toThrow(/lr: must be > 0/);
    expect(() => inverseTimeLr(Number.NaN)).toThrow(/lr0/);
    expect(() => stepDivideLr(1e-3, 2.5)).toThrow(/every/);
    expect(() => constantLr(1).lr(-1)).toThrow(/step/);
  });
});
