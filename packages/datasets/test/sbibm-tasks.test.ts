import { gaussianLinear, type Simulator, sbibmTask, slcp, twoMoons } from '@gcvi/datasets';
import { ConfigError, createRng, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await initBackend();
});

/** Sample mean and (co)variances of columns of a flat row-major array. */
function moments(v: Float64Array, cols: number) {
  const n = v.length / cols;
  const mean = new Array<number>(cols).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) mean[j] += (v[i * cols + j] as number) / n;
  const cov = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < n; i++)
      s += ((v[i * cols + a] as number) - mean[a]!) * ((v[i * cols + b] as number) - mean[b]!);
    return s / (n - 1);
  };
  return { n, mean, cov };
}

describe('gaussian_linear', () => {
  const task = gaussianLinear();
  it('has sbibm moments: θ ~ N(0, 0.1 I), x | θ ~ N(θ, 0.1 I)', () => {
    const n = 40000;
    const { theta, x } = task.sample(n, createRng(1));
    expect(theta.shape).toEqual([n, 10]);
    expect(x.shape).toEqual([n, 10]);
    const joint = new Float64Array(n * 20);
    const t = theta.dataSync();
    const xs = x.dataSync();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 10; j++) {
        joint[i * 20 + j] = t[i * 10 + j] as number;
        joint[i * 20 + 10 + j] = xs[i * 10 + j] as number;
      }
    }
    const m = moments(joint, 20);
    // Standard errors: mean sd/√n (≤ 0.0023), variance v·√(2/n) (≤ 0.0014 for v = 0.2).
    for (let j = 0; j < 10; j++) {
      expect(Math.abs(m.mean[j]!)).toBeLessThan(5 * Math.sqrt(0.1 / n));
      expect(Math.abs(m.mean[10 + j]!)).toBeLessThan(5 * Math.sqrt(0.2 / n));
      expect(Math.abs(m.cov(j, j) - 0.1)).toBeLessThan(5 * 0.1 * Math.sqrt(2 / n));
      expect(Math.abs(m.cov(10 + j, 10 + j) - 0.2)).toBeLessThan(5 * 0.2 * Math.sqrt(2 / n));
      expect(Math.abs(m.cov(j, 10 + j) - 0.1)).toBeLessThan(5 * Math.sqrt((0.1 * 0.2 + 0.01) / n));
      if (j > 0) expect(Math.abs(m.cov(j - 1, j))).toBeLessThan((5 * 0.1) / Math.sqrt(n));
    }
    tf.dispose([theta, x]);
  });

  it('has the exact posterior N(x/2, 0.05 I): Bayes rule holds pointwise and exact draws match', () => {
    const rng = createRng(2);
    const xo = Array.from({ length: 10 }, () => 0.5 * rng.normal());
    const post = task.posterior(xo);
    expect(post.variance).toBeCloseTo(0.05, 15);
    post.mean.forEach((m, j) => {
      expect(m).toBeCloseTo((xo[j] as number) / 2, 15);
    });
    // log p(θ | x) − log p(θ) − log p(x | θ) = −log p(x), the same for every θ.
    const gaps = Array.from({ length: 20 }, () => {
      const th = Array.from({ length: 10 }, () => 0.4 * rng.normal());
      return task.logPosterior(th, xo) - task.prior.logProbOne(th) - task.logLikelihood(th, xo);
    });
    // and −log p(x) with p(x) = N(0, 0.2 I) in closed form.
    const logEvidence = -5 * Math.log(2 * Math.PI * 0.2) - xo.reduce((a, v) => a + v * v, 0) / (2 * 0.2);
    for (const g of gaps) expect(g).toBeCloseTo(-logEvidence, 10);
    const draws = task.samplePosterior(xo, 20000, rng);
    const m = moments(draws, 10);
    for (let j = 0; j < 10; j++) {
      expect(Math.abs(m.mean[j]! - (xo[j] as number) / 2)).toBeLessThan(5 * Math.sqrt(0.05 / 20000));
      expect(Math.abs(m.cov(j, j) - 0.05)).toBeLessThan(5 * 0.05 * Math.sqrt(2 / 20000));
    }
  });
});

// The two_moons map written out from the fixture README, independently of the package code.
function moonsShift(t1: number, t2: number): [number, number] {
  const c = Math.cos(-Math.PI / 4);
  const s = Math.sin(-Math.PI / 4);
  return [-Math.abs(c * t1 - s * t2), s * t1 + c * t2];
}

describe('two_moons', () => {
  const task = twoMoons();
  it('draws θ from Uniform([−1, 1]²) and x | θ with the closed-form moments of the crescent', () => {
    const rng = createRng(3);
    const prior = task.prior.sampleArray(20000, rng);
    expect(Math.min(...prior)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...prior)).toBeLessThan(1);
    const pm = moments(prior, 2);
    expect(Math.abs(pm.cov(0, 0) - 1 / 3)).toBeLessThan(0.02);
    expect(task.prior.support).toEqual({ low: [-1, -1], high: [1, 1] });
    const theta = [0.3, -0.6];
    const n = 50000;
    const rep = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) rep.set(theta, 2 * i);
    const x = task.simulateArray(rep, rng);
    const m = moments(x, 2);
    const [d0, d1] = moonsShift(0.3, -0.6);
    // r ~ N(0.1, 0.01²) ⟂ a ~ U(−π/2, π/2): E[r cos a] = 0.1 · 2/π, E[r sin a] = 0,
    // E[r²] = 0.01 + 1e-4, E[cos² a] = E[sin² a] = 1/2.
    const er2 = 0.0101;
    const ercos = 0.2 / Math.PI;
    expect(Math.abs(m.mean[0]! - (ercos + 0.25 + d0))).toBeLessThan(5 * Math.sqrt(er2 / 2 / n));
    expect(Math.abs(m.mean[1]! - d1)).toBeLessThan(5 * Math.sqrt(er2 / 2 / n));
    // Standard error of a sample (co)variance: √(Var[(x − μ)(y − ν)] / n), estimated from the draws.
    const se = (a: number, b: number) => {
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const p = (x[2 * i + a]! - m.mean[a]!) * (x[2 * i + b]! - m.mean[b]!);
        s1 += p;
        s2 += p * p;
      }
      return Math.sqrt((s2 / n - (s1 / n) ** 2) / n);
    };
    expect(Math.abs(m.cov(0, 0) - (er2 / 2 - ercos * ercos))).toBeLessThan(5 * se(0, 0));
    expect(Math.abs(m.cov(1, 1) - er2 / 2)).toBeLessThan(5 * se(1, 1));
    expect(Math.abs(m.cov(0, 1))).toBeLessThan(5 * se(0, 1));
  });

  it('has a likelihood that is a normalized density in x (grid integral) and −∞ off the crescent', () => {
    const theta = [-0.4, 0.7];
    const [d0, d1] = moonsShift(-0.4, 0.7);
    const h = 5e-4;
    let total = 0;
    for (let x0 = 0.25 + d0 - 0.01 + h / 2; x0 < 0.25 + d0 + 0.16; x0 += h) {
      for (let x1 = d1 - 0.16 + h / 2; x1 < d1 + 0.16; x1 += h) {
        total += Math.exp(task.logLikelihood(theta, [x0, x1]));
      }
    }
    // Midpoint rule on a ring of width ~0.04 at step 5e-4; the 1/r factor is smooth there.
    expect(Math.abs(total * h * h - 1)).toBeLessThan(2e-3);
    expect(task.logLikelihood(theta, [0.25 + d0 - 0.05, d1])).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('slcp', () => {
  const task = slcp();
  it('draws 4 points from N(m, S) per θ, flattened draw-major, with the closed-form S', () => {
    const theta = [0.7, -1.2, 1.1, -0.8, 0.6];
    const s1 = 1.1 ** 2;
    const s2 = 0.8 ** 2;
    const rho = Math.tanh(0.6);
    const S = [s1 * s1 + 1e-6, rho * s1 * s2, s2 * s2 + 1e-6];
    const n = 20000;
    const rep = new Float64Array(5 * n);
    for (let i = 0; i < n; i++) rep.set(theta, 5 * i);
    const x = task.simulateArray(rep, createRng(4));
    expect(x.length).toBe(8 * n);
    const m = moments(x, 8);
    for (let k = 0; k < 4; k++) {
      expect(Math.abs(m.mean[2 * k]! - 0.7)).toBeLessThan(5 * Math.sqrt(S[0]! / n));
      expect(Math.abs(m.mean[2 * k + 1]! + 1.2)).toBeLessThan(5 * Math.sqrt(S[2]! / n));
      expect(Math.abs(m.cov(2 * k, 2 * k) / S[0]! - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
      expect(Math.abs(m.cov(2 * k + 1, 2 * k + 1) / S[2]! - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
      const corr = m.cov(2 * k, 2 * k + 1) / Math.sqrt(m.cov(2 * k, 2 * k) * m.cov(2 * k + 1, 2 * k + 1));
      expect(Math.abs(corr - S[1]! / Math.sqrt(S[0]! * S[2]!))).toBeLessThan(5 / Math.sqrt(n));
      // Draws are independent of each other.
      if (k > 0) expect(Math.abs(m.cov(2 * k - 2, 2 * k) / S[0]!)).toBeLessThan(5 / Math.sqrt(n));
    }
  });

  it('likelihood: 4 bivariate normal log-densities (checked against an explicit inverse)', () => {
    const rng = createRng(5);
    for (let t = 0; t < 20; t++) {
      const theta = Array.from({ length: 5 }, () => -3 + 6 * rng.uniform());
      const x = Array.from({ length: 8 }, () => 3 * rng.normal());
      const s1 = theta[2]! ** 2;
      const s2 = theta[3]! ** 2;
      const r = Math.tanh(theta[4]!);
      const a = s1 * s1 + 1e-6;
      const b = r * s1 * s2;
      const d = s2 * s2 + 1e-6;
      const det = a * d - b * b;
      let ref = 0;
      for (let k = 0; k < 4; k++) {
        const u = x[2 * k]! - theta[0]!;
        const v = x[2 * k + 1]! - theta[1]!;
        // Inverse [[d, −b], [−b, a]] / det.
        ref +=
          -Math.log(2 * Math.PI) -
          0.5 * Math.log(det) -
          (0.5 * (d * u * u - 2 * b * u * v + a * v * v)) / det;
      }
      expect(task.logLikelihood(theta, x)).toBeCloseTo(ref, 8);
    }
  });
});

describe('sbibm tasks: contract and errors', () => {
  it('every task samples named tensors of the declared shapes through the one simulator contract', () => {
    for (const name of ['gaussian_linear', 'two_moons', 'slcp'] as const) {
      const task = sbibmTask(name);
      const before = tf.memory().numTensors;
      const sim: Simulator = task; // the one simulator contract, default Draws
      const out = sim.sample(7, createRng(6));
      expect(out.theta!.shape).toEqual([7, task.thetaDim]);
      expect(out.x!.shape).toEqual([7, task.xDim]);
      // Same seed, same pairs.
      const again = task.sample(7, createRng(6));
      expect(Array.from(again.x.dataSync())).toEqual(Array.from(out.x!.dataSync()));
      const lp = task.prior.logProb(out.theta!);
      expect(lp.shape).toEqual([7]);
      const x2 = task.simulate(out.theta!, createRng(7));
      expect(x2.shape).toEqual([7, task.xDim]);
      tf.dispose([out.theta!, out.x!, again.theta, again.x, lp, x2]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('names bad arguments', () => {
    expect(() => sbibmTask('nope')).toThrow(ConfigError);
    expect(() => twoMoons().sample(0, createRng(1))).toThrow(/n: must be/);
    expect(() => slcp().simulate(tf.zeros([3, 2]), createRng(1))).toThrow(ShapeError);
    expect(() => slcp().logLikelihood([1, 2, 3], [0, 0, 0, 0, 0, 0, 0, 0])).toThrow(/theta/);
    expect(twoMoons().prior.logProbOne([1.5, 0])).toBe(Number.NEGATIVE_INFINITY);
    expect(twoMoons().prior.logProbOne([0.5, 0])).toBeCloseTo(-Math.log(4), 12);
  });
});
