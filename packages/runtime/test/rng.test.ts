import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createRng, initBackend, rngFromState } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

describe('createRng', () => {
  it('same seed gives identical numbers; different seeds differ', () => {
    const a = createRng(42).fillUniform(new Float64Array(1000));
    const b = createRng(42).fillUniform(new Float64Array(1000));
    const c = createRng(43).fillUniform(new Float64Array(1000));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a.filter((v, i) => v === c[i]).length).toBe(0);
  });

  it('split streams are deterministic by name, independent of parent use, and differ by name', () => {
    const root = createRng(7);
    const d1 = root.split('data').fillNormal(new Float64Array(500));
    root.fillUniform(new Float64Array(123));
    const d2 = root.split('data').fillNormal(new Float64Array(500));
    const i1 = root.split('init').fillNormal(new Float64Array(500));
    expect(Array.from(d1)).toEqual(Array.from(d2));
    // Unrelated streams: sample correlation within 4 standard errors of 0 (se = 1/sqrt(n)).
    let s = 0;
    for (let i = 0; i < 500; i++) s += (d1[i] as number) * (i1[i] as number);
    expect(Math.abs(s / 500)).toBeLessThan(4 / Math.sqrt(500));
    expect(root.split('a').split('b').key).not.toBe(root.split('a/b').split('x').key);
  });

  it('uniform and normal have the right moments (within 4 standard errors)', () => {
    const n = 200_000;
    const u = createRng('moments').fillUniform(new Float64Array(n));
    const z = createRng('moments').split('z').fillNormal(new Float64Array(n));
    const mean = (a: Float64Array) => a.reduce((p, v) => p + v, 0) / a.length;
    const mu = mean(u);
    expect(Math.abs(mu - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    const mz = mean(z);
    const vz = z.reduce((p, v) => p + (v - mz) ** 2, 0) / (n - 1);
    expect(Math.abs(mz)).toBeLessThan(4 / Math.sqrt(n));
    // Var of the sample variance of a normal: 2/(n-1).
    expect(Math.abs(vz - 1)).toBeLessThan(4 * Math.sqrt(2 / (n - 1)));
    expect(u.reduce((a, v) => Math.min(a, v), 1)).toBeGreaterThanOrEqual(0);
    expect(u.reduce((a, v) => Math.max(a, v), 0)).toBeLessThan(1);
  });

  it('state round-trips: a restored stream continues exactly', () => {
    const r = createRng(5).split('x');
    r.normal(); // leaves a Box–Muller spare in the state
    const state = JSON.parse(JSON.stringify(r.getState()));
    const ahead = r.fillNormal(new Float64Array(10));
    const again = rngFromState(state).fillNormal(new Float64Array(10));
    expect(Array.from(again)).toEqual(Array.from(ahead));
    expect(() => createRng(6).setState(state)).toThrow(ConfigError);
  });

  it('tensors from the same seed are identical; permutation is a permutation', () => {
    const a = createRng(1).normalTensor([3, 4]);
    const b = createRng(1).normalTensor([3, 4]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(a.shape).toEqual([3, 4]);
    tf.dispose([a, b]);
    const p = Array.from(createRng(3).permutation(50)).sort((x, y) => x - y);
    expect(p).toEqual([...Array(50).keys()]);
  });

  it('tfSeed seeds tfjs random ops reproducibly', () => {
    const s1 = createRng(9).tfSeed();
    const s2 = createRng(9).tfSeed();
    expect(s1).toBe(s2);
    const a = tf.randomNormal([5], 0, 1, 'float32', s1).dataSync();
    const b = tf.randomNormal([5], 0, 1, 'float32', s2).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('rejects bad seeds and names', () => {
    expect(() => createRng(1.5)).toThrow(/seed/);
    expect(() => createRng('')).toThrow(/seed/);
    expect(() => createRng(1).split('')).toThrow(/name/);
    expect(() => createRng(1).int(0)).toThrow(/n/);
  });
});
