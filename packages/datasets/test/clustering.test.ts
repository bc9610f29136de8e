import { ConfigError, createRng, initBackend, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusteringSimulator } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

/** Independent float64 reference of log p(θ, x) for one θ and one data set. */
function refLogJoint(
  theta: number[],
  x: number[],
  cfg = { means: [-20, -10, 0, 10, 20], priorShiftSd: 100, centreSd: 0.5, obsSd: 0.1 },
): number {
  const logN = (v: number, m: number, s: number) =>
    -0.5 * ((v - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
  const K = cfg.means.length;
  const S = theta[K] as number;
  let lp = logN(S, 0, cfg.priorShiftSd);
  for (let k = 0; k < K; k++) lp += logN(theta[k] as number, (cfg.means[k] as number) + S, cfg.centreSd);
  for (const xi of x) {
    const terms = cfg.means.map((_, k) => Math.log(1 / K) + logN(xi, theta[k] as number, cfg.obsSd));
    const m = Math.max(...terms);
    lp += m + Math.log(terms.reduce((a, t) => a + Math.exp(t - m), 0));
  }
  return lp;
}

describe('clusteringSimulator', () => {
  it('sample returns named tensors with the documented shapes; theta = (Z, S)', () => {
    const sim = clusteringSimulator({ nPoints: 7 });
    const p = sim.sample(3, createRng(1));
    expect(Object.keys(p).sort()).toEqual(['theta', 'x']);
    expect(sim.simulate).toBe(sim.sample); // the deprecated name is the same function
    const d = sim.simulateNamed(3, createRng(1));
    expect(Array.from(p.theta.dataSync())).toEqual(Array.from(d.theta.dataSync()));
    expect(Array.from(p.x.dataSync())).toEqual(Array.from(d.x.dataSync()));
    tf.dispose([p.theta, p.x]);
    expect(d.theta.shape).toEqual([3, 6]);
    expect(d.x.shape).toEqual([3, 7, 1]);
    expect(d.Z.shape).toEqual([3, 5]);
    expect(d.S.shape).toEqual([3]);
    const th = d.theta.arraySync();
    const z = d.Z.arraySync();
    const s = d.S.arraySync();
    for (let b = 0; b < 3; b++) {
      expect(th[b]!.slice(0, 5)).toEqual(z[b]);
      expect(th[b]![5]).toBe(s[b]);
    }
    tf.dispose([d.theta, d.x, d.Z, d.S]);
  });

  it('moments of S, Z | S and X | Z are within 4 standard errors', () => {
    const sim = clusteringSimulator({ nPoints: 4 });
    const n = 4000;
    const a = sim.simulateArrays(n, createRng(2024));
    const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
    const variance = (v: number[]) => {
      const m = mean(v);
      return v.reduce((p, q) => p + (q - m) ** 2, 0) / (v.length - 1);
    };
    // S ~ N(0, 100²): mean se = 100/√n; variance se ≈ σ²·√(2/(n-1)).
    const S = Array.from({ length: n }, (_, b) => a.theta[b * 6 + 5] as number);
    expect(Math.abs(mean(S))).toBeLessThan((4 * 100) / Math.sqrt(n));
    expect(Math.abs(variance(S) - 1e4)).toBeLessThan(4 * 1e4 * Math.sqrt(2 / (n - 1)));
    // Z_k - μ_k - S ~ N(0, 0.25) for every k.
    const mu = [-20, -10, 0, 10, 20];
    for (let k = 0; k < 5; k++) {
      const r = Array.from(
        { length: n },
        (_, b) => (a.theta[b * 6 + k] as number) - (mu[k] as number) - S[b]!,
      );
      expect(Math.abs(mean(r))).toBeLessThan((4 * 0.5) / Math.sqrt(n));
      expect(Math.abs(variance(r) - 0.25)).toBeLessThan(4 * 0.25 * Math.sqrt(2 / (n - 1)));
    }
    // X: each component has probability 1/5; X - Z_c ~ N(0, 0.01). The component is recovered from
    // the data alone as the nearest centre (centres are 10 apart, noise sd ≤ 0.5).
    const m = n * 4;
    const counts = [0, 0, 0, 0, 0];
    const resid: number[] = [];
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < 4; i++) {
        const xi = a.x[b * 4 + i] as number;
        let best = 0;
        for (let k = 1; k < 5; k++) {
          if (
            Math.abs(xi - (a.theta[b * 6 + k] as number)) < Math.abs(xi - (a.theta[b * 6 + best] as number))
          )
            best = k;
        }
        expect(best).toBe(a.component[b * 4 + i]);
        counts[best]!++;
        resid.push(xi - (a.theta[b * 6 + best] as number));
      }
    }
    for (const c of counts) expect(Math.abs(c / m - 0.2)).toBeLessThan(4 * Math.sqrt((0.2 * 0.8) / m));
    expect(Math.abs(mean(resid))).toBeLessThan((4 * 0.1) / Math.sqrt(m));
    expect(Math.abs(variance(resid) - 0.01)).toBeLessThan(4 * 0.01 * Math.sqrt(2 / (m - 1)));
  });

  it('logJoint matches a float64 reference for [K, B, 6] and [B, 6] thetas', () => {
    const sim = clusteringSimulator({ nPoints: 50 });
    const rng = createRng(5);
    const d = sim.simulateArrays(2, rng);
    const x = tf.tensor3d(Float32Array.from(d.x), [2, 50, 1]);
    // 3 draws per data set: the truth, a perturbed truth, a label-switched truth.
    const thetas: number[][][] = [];
    for (let k = 0; k < 3; k++) {
      const row: number[][] = [];
      for (let b = 0; b < 2; b++) {
        const t = Array.from(d.theta.subarray(b * 6, b * 6 + 6));
        if (k === 1) for (let j = 0; j < 6; j++) t[j] = t[j]! + 0.3 * rng.normal();
        if (k === 2) [t[0], t[4]] = [t[4]!, t[0]!];
        row.push(t);
      }
      thetas.push(row);
    }
    // Reference on float32-rounded inputs, so only the arithmetic is compared.
    const f32 = (v: number) => Math.fround(v);
    const xs = [0, 1].map((b) => Array.from(d.x.subarray(b * 50, b * 50 + 50), f32));
    const out = sim.logJoint(tf.tensor3d(thetas), x).arraySync() as number[][];
    for (let k = 0; k < 3; k++) {
      for (let b = 0; b < 2; b++) {
        const ref = refLogJoint(thetas[k]![b]!.map(f32), xs[b]!);
        expect(Math.abs(out[k]![b]! - ref)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref)));
      }
    }
    const flat = sim.logJoint(tf.tensor2d(thetas[0]!), x).arraySync() as number[];
    expect(flat.length).toBe(2);
    expect(flat[1]).toBeCloseTo(out[0]![1]!, 2);
    x.dispose();
  });

  it('logJoint gradient matches float64 central differences', () => {
    const sim = clusteringSimulator({ nPoints: 20 });
    const d = sim.simulateArrays(1, createRng(9));
    const xArr = Array.from(d.x, (v) => Math.fround(v));
    // A point between the truth and a wrong configuration, so every term has a non-trivial gradient.
    const theta = Array.from(d.theta, (v, j) => Math.fround(v + (j < 5 ? 0.05 * (j - 2) : 0.7)));
    const x = tf.tensor3d(xArr, [1, 20, 1]);
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(sim.logJoint(t, x)))(tf.tensor3d([[theta]]))
      .arraySync() as number[][][];
    const h = 1e-6;
    for (let j = 0; j < 6; j++) {
      const tp = [...theta];
      const tm = [...theta];
      tp[j]! += h;
      tm[j]! -= h;
      const fd = (refLogJoint(tp, xArr) - refLogJoint(tm, xArr)) / (2 * h);
      expect(Math.abs(g[0]![0]![j]! - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
    }
    x.dispose();
  });

  it('logJoint stays finite for centres far from the data (log-sum-exp) and its gradient points back', () => {
    const sim = clusteringSimulator({ nPoints: 10 });
    const x = tf.zeros([1, 10, 1]);
    const theta = tf.tensor3d([[[1e4, 1e4, 1e4, 1e4, 1e4, 1e4]]]);
    const v = sim.logJoint(theta, x).dataSync()[0]!;
    expect(Number.isFinite(v)).toBe(true);
    const ref = refLogJoint([1e4, 1e4, 1e4, 1e4, 1e4, 1e4], new Array(10).fill(0));
    expect(Math.abs(v - ref) / Math.abs(ref)).toBeLessThan(1e-5);
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(sim.logJoint(t, x)))(theta)
      .dataSync();
    for (const gi of g) expect(Number.isFinite(gi)).toBe(true);
    expect(g[0]!).toBeLessThan(0);
    tf.dispose([x, theta]);
  });

  it('observedReplicate is deterministic by seed, keeps S fixed, and differs across seeds', () => {
    const sim = clusteringSimulator({ nPoints: 30 });
    const a = sim.observedReplicate(100);
    const b = sim.observedReplicate(100);
    const c = sim.observedReplicate(101);
    expect(a.S).toBe(100);
    expect(a.theta.arraySync()[0]![5]).toBe(100);
    expect(a.x.shape).toEqual([1, 30, 1]);
    expect(Array.from(a.x.dataSync())).toEqual(Array.from(b.x.dataSync()));
    expect(a.Z).toEqual(b.Z);
    expect(a.Z).not.toEqual(c.Z);
    // Centres near μ + 100, in increasing order.
    for (const [k, z] of a.Z.entries()) expect(Math.abs(z - (80 + 10 * k))).toBeLessThan(2.5);
    const s50 = sim.observedReplicate(100, { S: 50 });
    expect(s50.S).toBe(50);
    tf.dispose([a.x, a.theta, b.x, b.theta, c.x, c.theta, s50.x, s50.theta]);
  });

  it('rejects bad configuration and bad shapes with errors naming the field', () => {
    expect(() => clusteringSimulator({ nPoints: 0 })).toThrow(NumericalError);
    expect(() => clusteringSimulator({ nPoints: 0 })).toThrow(/nPoints/);
    expect(() => clusteringSimulator({ obsSd: -1 })).toThrow(/obsSd/);
    expect(() => clusteringSimulator({ means: [] })).toThrow(ConfigError);
    expect(() => clusteringSimulator({ means: [0, Number.NaN] })).toThrow(/means\[1\]/);
    const sim = clusteringSimulator({ nPoints: 5 });
    expect(() => sim.logJoint(tf.zeros([2, 5]), tf.zeros([2, 5, 1]))).toThrow(ShapeError);
    expect(() => sim.logJoint(tf.zeros([1, 2, 6]), tf.zeros([3, 5, 1]))).toThrow(/x: expected/);
    expect(() => sim.observedReplicate(1, { S: Number.POSITIVE_INFINITY })).toThrow(/S/);
  });
});
