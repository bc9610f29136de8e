import { createRng, initBackend, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalSimulator, canonicalTestSet, wrapAngle } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

/**
 * Independent float64 reference: the wrapped normal by its Fourier series (Jacobi theta form),
 * p(u) = (1/2π) (1 + 2 Σ_{n≥1} exp(−n²σ²/2) cos(n u)). It shares no code or formula with the
 * library, which sums Gaussian images in θ space.
 */
function wrappedNormalFourier(u: number, sigma: number): number {
  let s = 1;
  for (let n = 1; n < 400; n++) {
    const a = Math.exp((-n * n * sigma * sigma) / 2);
    if (a < 1e-300) break;
    s += 2 * a * Math.cos(n * u);
  }
  return s / (2 * Math.PI);
}

/** Differential entropy of the wrapped normal, −∫ p log p over one period (midpoint rule, 2e4 bins: spectrally accurate for a smooth periodic integrand). */
function wrappedNormalEntropy(sigma: number): number {
  const n = 20_000;
  const h = (2 * Math.PI) / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = wrappedNormalFourier(-Math.PI + (i + 0.5) * h, sigma);
    if (p > 0) s -= p * Math.log(p) * h;
  }
  return s;
}

describe('canonicalSimulator.sample', () => {
  it('returns θ in [0, 2π) [n, 1] and x on the unit circle [n, 2], reproducibly', () => {
    const sim = canonicalSimulator();
    expect(sim.sigma).toBe(0.5);
    expect(sim.simulate).toBe(sim.sample); // the deprecated name is the same function
    const a = sim.sample(500, createRng(1));
    const b = sim.sample(500, createRng(1));
    expect(a.theta.shape).toEqual([500, 1]);
    expect(a.x.shape).toEqual([500, 2]);
    const th = a.theta.dataSync();
    const x = a.x.dataSync();
    for (let i = 0; i < 500; i++) {
      expect(th[i]).toBeGreaterThanOrEqual(0);
      expect(th[i]).toBeLessThan(2 * Math.PI);
      expect(Math.hypot(x[2 * i] as number, x[2 * i + 1] as number)).toBeCloseTo(1, 5);
    }
    expect(Array.from(b.x.dataSync())).toEqual(Array.from(x));
    tf.dispose([a.theta, a.x, b.theta, b.x]);
  });

  it('successive calls on one stream give fresh draws, and no tensor leaks', () => {
    const sim = canonicalSimulator();
    const rng = createRng(2);
    const before = tf.memory().numTensors;
    const a = sim.sample(10, rng);
    const b = sim.sample(10, rng);
    expect(tf.memory().numTensors - before).toBe(4);
    expect(Array.from(a.theta.dataSync())).not.toEqual(Array.from(b.theta.dataSync()));
    tf.dispose([a.theta, a.x, b.theta, b.x]);
  });

  it('θ is uniform and the angle noise wrap(φ − θ) has mean 0 and variance σ² (4 standard errors)', () => {
    const n = 20_000;
    const sigma = 0.5;
    const { theta, x } = canonicalSimulator({ sigma }).sample(n, createRng(3));
    const th = theta.dataSync();
    const xs = x.dataSync();
    let m = 0;
    let v = 0;
    let mt = 0;
    for (let i = 0; i < n; i++) {
      const u = wrapAngle(Math.atan2(xs[2 * i + 1] as number, xs[2 * i] as number) - (th[i] as number));
      m += u / n;
      v += (u * u) / n;
      mt += (th[i] as number) / n;
    }
    expect(Math.abs(m)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    // Var of the sample second moment: 2σ⁴/n.
    expect(Math.abs(v - sigma * sigma)).toBeLessThan(4 * sigma * sigma * Math.sqrt(2 / n));
    // Uniform(0, 2π): mean π, sd 2π/√12.
    expect(Math.abs(mt - Math.PI)).toBeLessThan((4 * 2 * Math.PI) / Math.sqrt(12 * n));
    tf.dispose([theta, x]);
  });
});

describe('exact posterior', () => {
  it('the grid density integrates to 1 and matches the float64 Fourier reference (σ = 0.5 and σ = 2)', () => {
    for (const sigma of [0.5, 2]) {
      const sim = canonicalSimulator({ sigma });
      const obs: [number, number][] = [
        [1, 0],
        [Math.cos(2.5), Math.sin(2.5)],
        [-0.3, -0.2], // not on the unit circle: only the angle matters
      ];
      const grid = sim.exactPosteriorGrid(obs);
      expect(grid.theta.length).toBe(Math.ceil((2 * Math.PI) / 1e-3));
      expect(grid.binWidth).toBeLessThanOrEqual(1e-3);
      expect(grid.density.length).toBe(3);
      for (let i = 0; i < obs.length; i++) {
        const [x1, x2] = obs[i] as [number, number];
        const phi = Math.atan2(x2, x1);
        const d = grid.density[i] as Float64Array;
        let total = 0;
        let maxErr = 0;
        for (let j = 0; j < d.length; j++) {
          total += (d[j] as number) * grid.binWidth;
          const ref = wrappedNormalFourier(phi - (grid.theta[j] as number), sigma);
          maxErr = Math.max(maxErr, Math.abs((d[j] as number) - ref));
        }
        expect(Math.abs(total - 1)).toBeLessThan(1e-12);
        // Peak density ≈ 0.8 at σ = 0.5: an absolute 1e-10 is ~1e-10 relative at the mode.
        expect(maxErr).toBeLessThan(1e-10);
      }
    }
  });

  it('the paper’s single wrapped term and the full wrapped normal agree to < 3e-9 at σ = 0.5', () => {
    const sigma = 0.5;
    const grid = canonicalSimulator({ sigma }).exactPosteriorGrid([1, 0], { binWidth: 1e-2 });
    const d = grid.density[0] as Float64Array;
    let z = 0;
    const single = Array.from(grid.theta, (t) => {
      const u = wrapAngle(-t);
      const v = Math.exp(-(u * u) / (2 * sigma * sigma));
      z += v * grid.binWidth;
      return v;
    });
    for (let j = 0; j < d.length; j++) {
      expect(Math.abs((d[j] as number) - (single[j] as number) / z)).toBeLessThan(3e-9);
    }
  });

  it('exactLogPosterior matches the log of the reference at arbitrary θ, including θ outside [0, 2π)', () => {
    const sigma = 0.5;
    const sim = canonicalSimulator({ sigma });
    const theta = [0.1, 3, 6.2, -1, 9];
    const x = [0.3, 0.9, -1, 0.01, 1, -1e-3, 0.5, 0.5, -2, 1];
    const lp = sim.exactLogPosterior(theta, x);
    for (let i = 0; i < theta.length; i++) {
      const phi = Math.atan2(x[2 * i + 1] as number, x[2 * i] as number);
      const ref = Math.log(wrappedNormalFourier(phi - (theta[i] as number), sigma));
      expect(Math.abs((lp[i] as number) - ref)).toBeLessThan(1e-9);
    }
  });

  it('for σ = 0.5 the mean exact NLL over many draws is the wrapped-normal entropy (~0.726)', () => {
    const sigma = 0.5;
    const entropy = wrappedNormalEntropy(sigma);
    expect(entropy).toBeCloseTo(0.726, 3);
    const n = 20_000;
    const sim = canonicalSimulator({ sigma });
    const { theta, x } = sim.sample(n, createRng(4));
    const lp = sim.exactLogPosterior(theta, x);
    const nll = sim.exactNll(theta, x);
    let m = 0;
    for (const v of lp) m -= v / n;
    expect(nll).toBeCloseTo(m, 12);
    let v2 = 0;
    for (const v of lp) v2 += (v + m) ** 2 / (n - 1);
    const se = Math.sqrt(v2 / n); // ≈ 0.005
    expect(Math.abs(nll - entropy)).toBeLessThan(4 * se);
    tf.dispose([theta, x]);
  }, 600_000); // 20,000 grid posteriors of 6,283 bins: tens of seconds idle, minutes beside other test tasks

  it('canonicalTestSet returns a reproducible set with its exact NLL', () => {
    const a = canonicalTestSet(200, createRng(5));
    const b = canonicalTestSet(200, createRng(5));
    expect(a.theta.shape).toEqual([200, 1]);
    expect(a.exactNll).toBe(b.exactNll);
    expect(a.exactNll).toBeCloseTo(canonicalSimulator().exactNll(a.theta, a.x), 12);
    expect(a.exactNll).toBeGreaterThan(0.3);
    expect(a.exactNll).toBeLessThan(1.2);
    tf.dispose([a.theta, a.x, b.theta, b.x]);
  });
});

describe('logJoint', () => {
  it('matches log(1/2π) + log wrapped normal, and its θ-gradient matches float64 finite differences', () => {
    const sigma = 0.7;
    const sim = canonicalSimulator({ sigma });
    const thetaVals = [
      [0.2, 3.1, -2],
      [5.9, 1.0, 7.5],
    ];
    const xVals = [
      [1, 0.2],
      [-0.5, 0.5],
      [0.1, -1],
    ];
    const theta = tf.tensor3d(thetaVals.map((r) => r.map((v) => [v])));
    const x = tf.tensor2d(xVals);
    const lj = sim.logJoint(theta, x);
    expect(lj.shape).toEqual([2, 3]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(sim.logJoint(t, x)))(theta);
    const got = lj.dataSync();
    const g = grad.dataSync();
    const f = (t: number, xi: number[]) =>
      -Math.log(2 * Math.PI) + Math.log(wrappedNormalFourier(Math.atan2(xi[1]!, xi[0]!) - t, sigma));
    for (let k = 0; k < 2; k++) {
      for (let b = 0; b < 3; b++) {
        const t = thetaVals[k]![b]!;
        const xi = xVals[b]!;
        // float32 phi and float32 arithmetic: ~1e-5 absolute.
        expect(Math.abs(got[k * 3 + b]! - f(t, xi))).toBeLessThan(2e-5);
        const e = 1e-5;
        const fd = (f(t + e, xi) - f(t - e, xi)) / (2 * e);
        expect(Math.abs(g[k * 3 + b]! - fd)).toBeLessThan(1e-4 * (1 + Math.abs(fd)));
      }
    }
    tf.dispose([theta, x, lj, grad]);
  });

  it('accepts θ as [K, B] and names a bad shape', () => {
    const sim = canonicalSimulator();
    const x = tf.tensor2d([[1, 0]]);
    const t = tf.tensor2d([[0.5], [1]]);
    const out = sim.logJoint(t, x);
    expect(out.shape).toEqual([2, 1]);
    expect(() => sim.logJoint(tf.zeros([2, 3, 1]), x)).toThrow(/theta/);
    expect(() => sim.logJoint(t, tf.zeros([1, 3]))).toThrow(/x: expected shape/);
    tf.dispose([x, t, out]);
  });
});

describe('bad input', () => {
  it('gives one clear error naming the argument', () => {
    expect(() => canonicalSimulator({ sigma: 0 })).toThrow(NumericalError);
    expect(() => canonicalSimulator({ sigma: Number.NaN })).toThrow(/sigma/);
    const sim = canonicalSimulator();
    expect(() => sim.sample(2.5, createRng(1))).toThrow(/n: must be a positive integer/);
    expect(() => sim.exactPosteriorGrid([0, 0])).toThrow(/x: observation 0 is \(0, 0\)/);
    expect(() => sim.exactPosteriorGrid([1, 0, 1])).toThrow(ShapeError);
    expect(() => sim.exactPosteriorGrid([1, 0], { binWidth: 0.3 })).toThrow(/binWidth: must be at most σ\/2/);
    expect(() => sim.exactPosteriorGrid([1, 0], { binWidth: -1 })).toThrow(/binWidth/);
    expect(() => sim.exactNll([1, 2], [1, 0])).toThrow(/theta: expected shape \[1\]/);
    expect(() => sim.exactNll([Number.POSITIVE_INFINITY], [1, 0])).toThrow(/theta: must be finite/);
    const bad = tf.tensor2d([[1, 0, 0]]);
    expect(() => sim.exactNll([1], bad)).toThrow(/x: expected shape \[n, 2\] or \[2\]/);
    bad.dispose();
  });

  it('handles a very narrow posterior when the grid resolves it (σ = 0.01, binWidth 1e-3)', () => {
    const sigma = 0.01;
    const sim = canonicalSimulator({ sigma });
    const lp = sim.exactLogPosterior([1], [Math.cos(1.005), Math.sin(1.005)]);
    // Wrapped normal = plain normal at this σ: log N(0.005; 0, 1e-4).
    const ref = -0.5 * (0.005 / sigma) ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
    expect(Math.abs((lp[0] as number) - ref)).toBeLessThan(1e-9);
  });
});
