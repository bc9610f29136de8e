import { createHash } from 'node:crypto';
import { ConfigError } from '@gcvi/runtime';
import { describe, expect, it } from 'vitest';
import { e1ConfigSchema, e1Plan } from '../src/experiments/e1/index.js';
import { canonicalJson, hashConfig, parseWithSchema, runId } from '../src/index.js';

describe('canonical JSON and run ids', () => {
  it('sorts keys at every level and ignores undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 'x' }], c: true } })).toBe(
      '{"a":{"c":true,"d":[1,{"y":"x","z":0}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, u: undefined })).toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson(-0)).toBe('0');
  });

  it('refuses values JSON would change (NaN, Infinity, functions, class instances)', () => {
    expect(() => canonicalJson({ lr: Number.NaN })).toThrow(/\$\.lr/);
    expect(() => canonicalJson({ x: [1, Number.POSITIVE_INFINITY] })).toThrow(/\$\.x\[1\]/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson({ d: new Date(0) })).toThrow(/plain objects/);
  });

  it('hashes with sha256 of the canonical text (independent recomputation)', () => {
    const cfg = { width: 64, lr0: 1e-4 };
    const expected = createHash('sha256').update('{"lr0":0.0001,"width":64}').digest('hex');
    expect(hashConfig(cfg)).toBe(expected);
    const id = createHash('sha256')
      .update('{"config":{"lr0":0.0001,"width":64},"experiment":"e1"}')
      .digest('hex');
    expect(runId('e1', { width: 64, lr0: 1e-4 })).toBe(id.slice(0, 16));
  });

  it('gives the same id for key order changes and different ids for different configs', () => {
    const [a] = e1Plan('quick');
    const shuffled = Object.fromEntries(Object.entries(a!).reverse());
    expect(runId('e1', shuffled)).toBe(runId('e1', a));
    expect(runId('e1', { ...a, width: 65 })).not.toBe(runId('e1', a));
    expect(runId('e2', a)).not.toBe(runId('e1', a));
    const ids = e1Plan('default').map((c) => runId('e1', c));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('config validation', () => {
  const good = e1Plan('quick')[0]!;
  const fieldOf = (raw: unknown): string => {
    try {
      parseWithSchema(e1ConfigSchema, raw, 'e1.config');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).field;
    }
    return 'no error';
  };

  it('accepts every planned config of every profile', () => {
    for (const p of ['quick', 'default', 'paper'] as const) {
      for (const c of e1Plan(p)) expect(parseWithSchema(e1ConfigSchema, c, 'e1.config')).toEqual(c);
    }
  });

  it('names the offending field', () => {
    expect(fieldOf({ ...good, width: -3 })).toBe('e1.config.width');
    expect(fieldOf({ ...good, lr0: 'fast' })).toBe('e1.config.lr0');
    expect(fieldOf({ ...good, steps: 1.5 })).toBe('e1.config.steps');
    expect(fieldOf({ ...good, evalEvery: good.steps + 1 })).toBe('e1.config.evalEvery');
    const { seed: _omit, ...noSeed } = good;
    expect(fieldOf(noSeed)).toBe('e1.config.seed');
  });

  it('rejects unknown fields (a typo must not silently change nothing)', () => {
    expect(() => parseWithSchema(e1ConfigSchema, { ...good, widht: 3 }, 'e1.config')).toThrow(/widht/);
  });
});
