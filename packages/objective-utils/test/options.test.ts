import type { Problem } from '@gcvi/objective-contract';
import { describe, expect, it } from 'vitest';
import {
  enumOption,
  finiteOption,
  need,
  ObjectiveError,
  optionsObject,
  positiveIntOption,
  provides,
  rejectUnknown,
} from '../src/index.js';

describe('option parsing', () => {
  it('accepts what is valid and names the field of what is not', () => {
    expect(optionsObject('x', undefined)).toEqual({});
    expect(optionsObject('x', null)).toEqual({});
    expect(optionsObject('x', { K: 1 })).toEqual({ K: 1 });
    expect(() => optionsObject('x', [1])).toThrow(/^x\.options: must be an object, got an array$/);
    expect(() => optionsObject('x', 42)).toThrow(/^x\.options: must be an object, got number$/);
    expect(() => rejectUnknown('x', { K: 1, kk: 2 }, ['K'])).toThrow(
      /^x\.options\.kk: unknown option; known: K$/,
    );
    expect(() => rejectUnknown('x', { a: 1 }, [])).toThrow(/known: \(none\)/);
    expect(positiveIntOption('x', 'K', 3)).toBe(3);
    for (const bad of [0, -1, 1.5, '3', Number.NaN, null]) {
      expect(() => positiveIntOption('x', 'K', bad)).toThrow(/^x\.options\.K: must be a positive integer/);
    }
    expect(finiteOption('x', 'alpha', -0.5)).toBe(-0.5);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1', undefined]) {
      expect(() => finiteOption('x', 'alpha', bad)).toThrow(/^x\.options\.alpha: must be a finite number/);
    }
    expect(enumOption('x', 'w', 'mean', ['mean', 'softmax'] as const)).toBe('mean');
    expect(() => enumOption('x', 'w', 'max', ['mean', 'softmax'])).toThrow(
      /^x\.options\.w: must be one of mean, softmax, got "max"$/,
    );
  });

  it('errors carry code and field', () => {
    try {
      positiveIntOption('renyi', 'K', 0);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ObjectiveError);
      expect((e as ObjectiveError).code).toBe('E_CONFIG');
      expect((e as ObjectiveError).field).toBe('renyi.options.K');
      expect((e as ObjectiveError).name).toBe('ObjectiveError');
    }
  });

  it('need names the missing capability of the problem', () => {
    const p: Problem = { logJoint: (t) => t };
    expect(provides(p, 'logJoint')).toBe(true);
    expect(provides(p, 'observed')).toBe(false);
    expect(provides(p, 'simulator')).toBe(false);
    expect(provides(p, 'rsample')).toBe(true);
    need('x', p, 'logJoint');
    expect(() => need('x', p, 'simulator')).toThrow(
      /^problem\.simulate: objective 'x' requires the problem to provide 'simulate'$/,
    );
    expect(() => need('x', p, 'observed')).toThrow(/^problem\.observed: objective 'x' requires/);
  });
});
