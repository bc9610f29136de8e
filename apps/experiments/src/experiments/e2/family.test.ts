import { createRng, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ETA2_CLAMP, e2Family } from './family.js';

beforeAll(async () => {
  await initBackend();
});

const LOG_2PI = Math.log(2 * Math.PI);

function xSet(n: number, seed: number): tf.Tensor3D {
  const r = createRng(seed);
  return tf.tensor3d(
    Float32Array.from({ length: n }, (_, i) => 80 + 10 * (i % 5) + 0.1 * r.normal()),
    [1, n, 1],
  );
}

describe('e2Family', () => {
  it('mean parameterization: loc = output[..., 0], scale 1; logProb is the float64 Gaussian sum', () => {
    const fam = e2Family({ parameterization: 'mean', width: 16, heads: 4 });
    const params = fam.init(createRng(3));
    expect(Object.keys(params).some((k) => k.startsWith('z/'))).toBe(true);
    expect(Object.keys(params).some((k) => k.startsWith('s/'))).toBe(true);
    const x = tf.concat([xSet(12, 1), xSet(12, 2)], 0);
    const out = fam.outputs(params, x).arraySync() as number[][][];
    expect(out.length).toBe(2);
    expect(out[0]!.length).toBe(6);
    const q = fam.q(params, x);
    expect(q.batchShape).toEqual([2]);
    expect(q.eventShape).toEqual([6]);
    const { mode, sd } = fam.summarize(params, x);
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < 6; j++) {
        expect(mode[b]![j]).toBeCloseTo(out[b]![j]![0]!, 5);
        expect(sd[b]![j]).toBe(1);
      }
    }
    const theta = [
      [1, 2, 3, 4, 5, 6],
      [-1, 0, 1, 2, 3, 100],
    ];
    const lp = q.logProb(tf.tensor2d(theta)).arraySync() as number[];
    for (let b = 0; b < 2; b++) {
      let ref = 0;
      for (let j = 0; j < 6; j++) ref += -0.5 * (theta[b]![j]! - out[b]![j]![0]!) ** 2 - 0.5 * LOG_2PI;
      expect(Math.abs(lp[b]! - ref)).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref)));
    }
  });

  it('natural parameterization: η2 clamped to [−1000, −0.1], loc = −η1/(2η2), sd² = −1/(2η2)', () => {
    const fam = e2Family({ parameterization: 'natural', width: 16, heads: 4 });
    const params = fam.init(createRng(4));
    const x = xSet(10, 3);
    const check = (shift: number) => {
      // Shift the η2 output of both encoders by moving their output bias.
      const p = { ...params };
      for (const pre of ['z/', 's/']) {
        const b = params[`${pre}out.b`]!;
        p[`${pre}out.b`] = tf.add(b, tf.tensor1d([0, shift]));
      }
      const out = fam.outputs(p, x).arraySync() as number[][][];
      const { mode, sd } = fam.summarize(p, x);
      for (let j = 0; j < 6; j++) {
        const [e1, e2raw] = out[0]![j]! as [number, number];
        const e2 = Math.min(ETA2_CLAMP[1], Math.max(ETA2_CLAMP[0], e2raw));
        expect(mode[0]![j]! / (-e1 / (2 * e2))).toBeCloseTo(1, 4);
        expect(sd[0]![j]! / Math.sqrt(-1 / (2 * e2))).toBeCloseTo(1, 4);
      }
      tf.dispose([p['z/out.b']!, p['s/out.b']!]);
      return sd[0]!;
    };
    // Large positive η2 → clamped at −0.1: sd = √5 exactly; very negative → clamped at −1000.
    for (const s of check(1e4)) expect(s).toBeCloseTo(Math.sqrt(5), 4);
    for (const s of check(-1e5)) expect(s).toBeCloseTo(Math.sqrt(1 / 2000), 5);
    check(-20);
  });

  it('q is invariant to the order of the set and differentiable in the parameters (rsample)', () => {
    const fam = e2Family({ parameterization: 'natural', width: 16, heads: 4 });
    const params = fam.init(createRng(5));
    const x = xSet(15, 6);
    const perm = createRng(1).permutation(15);
    const xp = tf.gather(x, tf.tensor1d(perm, 'int32'), 1);
    const a = fam.summarize(params, x).mode[0]!;
    const b = fam.summarize(params, xp).mode[0]!;
    for (let j = 0; j < 6; j++) expect(b[j]).toBeCloseTo(a[j]!, 3);
    const names = Object.keys(params);
    const g = tf.grads((...ts: tf.Tensor[]) => {
      const p = Object.fromEntries(names.map((n, i) => [n, ts[i]!]));
      const q = fam.q(p, x);
      return tf.sum(q.rsample!(3, createRng(2)));
    })(names.map((n) => params[n]!));
    const norm = g.reduce((s, t) => s + (tf.sum(tf.square(t)).dataSync()[0] as number), 0);
    expect(Number.isFinite(norm) && norm > 0).toBe(true);
  });

  it('rejects a bad parameterization and a bad input shape', () => {
    expect(() => e2Family({ parameterization: 'log' as never })).toThrow(/parameterization/);
    const fam = e2Family({ parameterization: 'mean', width: 8, heads: 2 });
    expect(() => fam.outputs(fam.init(createRng(1)), tf.zeros([1, 5]))).toThrow(ShapeError);
  });
});
