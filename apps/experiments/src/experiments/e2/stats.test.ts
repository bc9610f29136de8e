import { describe, expect, it } from 'vitest';
import {
  gaussianKde,
  isIncreasing,
  l1Distance,
  linspace,
  matchesTrueCentres,
  sd,
  silvermanBandwidth,
  wilsonInterval,
} from './stats.js';

describe('E2 statistics', () => {
  it('isIncreasing is strict and rejects non-finite values', () => {
    expect(isIncreasing([80, 90, 100, 110, 120])).toBe(true);
    expect(isIncreasing([80, 90, 90, 110, 120])).toBe(false);
    expect(isIncreasing([90, 80, 100, 110, 120])).toBe(false);
    expect(isIncreasing([80, Number.NaN, 100])).toBe(false);
    expect(isIncreasing([])).toBe(false);
  });

  it('matchesTrueCentres needs every estimate nearest to its own true centre', () => {
    const truth = [80.2, 89.7, 100.1, 110.4, 119.8];
    expect(matchesTrueCentres([81, 88, 101, 112, 118], truth)).toBe(true);
    // in order but shifted by one cluster: the labels are wrong
    expect(matchesTrueCentres([90, 100, 110, 120, 130], truth)).toBe(false);
    // label switch of two centres
    expect(matchesTrueCentres([89.7, 80.2, 100.1, 110.4, 119.8], truth)).toBe(false);
    expect(matchesTrueCentres([81, 88, 101, 112], truth)).toBe(false);
  });

  it('l1Distance sums absolute errors label by label', () => {
    expect(l1Distance([1, 2, 3], [1.5, 2, 1])).toBeCloseTo(2.5, 12);
    expect(() => l1Distance([1], [1, 2])).toThrow(RangeError);
  });

  it('wilsonInterval matches published values (Newcombe 1998, table I) and the closed form at 0 and n', () => {
    // 81/263 → 0.2553, 0.3662 (Newcombe 1998, example)
    const [a, b] = wilsonInterval(81, 263);
    expect(a).toBeCloseTo(0.2553, 4);
    expect(b).toBeCloseTo(0.3662, 4);
    // x = 0: upper = z² / (n + z²)
    const z2 = 1.959963984540054 ** 2;
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(0, 10)[1]).toBeCloseTo(z2 / (10 + z2), 12);
    expect(wilsonInterval(20, 20)[0]).toBeCloseTo(20 / (20 + z2), 12);
    expect(wilsonInterval(20, 20)[1]).toBe(1);
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(0, 0)).toThrow(RangeError);
  });

  it('gaussianKde integrates to 1 and equals the normal density for one point', () => {
    const grid = linspace(60, 140, 8001);
    const values = [95, 100, 100.5, 101, 108];
    const h = silvermanBandwidth(values);
    const dens = gaussianKde(values, grid, h);
    const dx = grid[1]! - grid[0]!;
    let integral = 0;
    for (let i = 1; i < grid.length; i++) integral += 0.5 * (dens[i]! + dens[i - 1]!) * dx;
    expect(integral).toBeCloseTo(1, 6);
    const one = gaussianKde([100], [100, 101], 2);
    expect(one[0]).toBeCloseTo(1 / (2 * Math.sqrt(2 * Math.PI)), 12);
    expect(one[1]).toBeCloseTo(Math.exp(-0.125) / (2 * Math.sqrt(2 * Math.PI)), 12);
    expect(gaussianKde([Number.NaN], [100], 1)).toEqual([0]);
  });

  it('silvermanBandwidth follows the rule and is floored for identical values', () => {
    const v = linspace(0, 10, 11);
    const s = sd(v);
    // IQR of 0..10 = 5 → 5 / 1.34 = 3.73 > sd 3.32, so sd is used
    expect(silvermanBandwidth(v, 0)).toBeCloseTo(0.9 * s * 11 ** -0.2, 12);
    expect(silvermanBandwidth([100, 100, 100], 0.25)).toBe(0.25);
  });
});
