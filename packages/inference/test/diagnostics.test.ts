import { MultivariateNormal, VonMises } from '@gcvi/distributions';
import { c2st, expectedCoverage, type PosteriorLike, sbc, zScoreContraction } from '@gcvi/inference';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearGaussian, posteriorCov, posteriorMean } from './linear-gaussian.js';

beforeAll(async () => {
  await initBackend();
});

/** The exact linear-Gaussian posterior, or one whose covariance is scaled by `covScale`. */
function gaussianPosterior(covScale: number): PosteriorLike {
  const cov = posteriorCov.flat().map((v) => v * covScale);
  const dist = (x: tf.Tensor) => {
    const xs = x.arraySync() as number[][];
    const l = MultivariateNormal.fromLocCovariance([0, 0], cov); // shared factor
    const tril = l.precisionTril;
    const locs = tf.tensor2d(xs.map(posteriorMean));
    const q = MultivariateNormal.fromLocPrecisionTril(locs, tril);
    return {
      q,
      free: () => {
        q.dispose();
        l.dispose();
        locs.dispose();
      },
    };
  };
  return {
    sample(x, n, rng) {
      const { q, free } = dist(x as tf.Tensor);
      try {
        return q.sample(n, rng);
      } finally {
        free();
      }
    },
    logProb(theta, x) {
      const { q, free } = dist(x as tf.Tensor);
      try {
        return q.logProb(theta);
      } finally {
        free();
      }
    },
    mean(x) {
      return tf.tensor2d(((x as tf.Tensor).arraySync() as number[][]).map(posteriorMean));
    },
  };
}

function testPairs(n: number, seed: number) {
  const s = linearGaussian.sample(n, createRng(seed));
  return { theta: s.theta as tf.Tensor, x: s.x as tf.Tensor };
}

describe('SBC', () => {
  it('the exact posterior gives uniform ranks; an over-confident one (sd halved) is rejected', () => {
    const pairs = testPairs(300, 11);
    const good = sbc(gaussianPosterior(1), { pairs, rng: createRng(1) });
    const bad = sbc(gaussianPosterior(0.25), { pairs, rng: createRng(1) });
    expect(good.settings).toMatch(/N = 300 pairs, L = 99/);
    for (const d of good.dims) {
      expect(d.withinBand).toBe(true);
      expect(d.ecdfPValue).toBeGreaterThan(0.05);
      expect(d.chi2.pValue).toBeGreaterThan(0.01);
      expect(d.ranks.every((r) => r >= 0 && r <= 99)).toBe(true);
    }
    for (const d of bad.dims) {
      expect(d.withinBand).toBe(false);
      expect(d.ecdfPValue).toBeLessThan(0.01);
      expect(d.chi2.pValue).toBeLessThan(1e-6);
    }
    // the band: ECDF values and bounds are probabilities, the band contains the uniform CDF
    const e = good.dims[0]!.ecdf;
    e.z.forEach((z, k) => {
      expect(e.lower[k]!).toBeLessThanOrEqual(z);
      expect(e.upper[k]!).toBeGreaterThanOrEqual(z);
    });
    expect(good.gamma).toBeLessThan(0.05); // simultaneous: stricter than pointwise
  });

  it('angles are ranked on the circle: θ* in (0, 2π) and draws in [−π, π) still give uniform ranks near ±π', () => {
    // θ ~ VonMises(π, 2) (mass at ±π), x | θ ~ VonMises(θ, 3): the posterior is von Mises with
    // natural parameters 2(cos π, sin π) + 3(cos x, sin x) (conjugate).
    const n = 300;
    const rng = createRng(21);
    const prior = new VonMises(Math.PI, 2);
    const th = prior.sample(n, rng).dataSync();
    const theta = new Float32Array(n);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      theta[i] = (th[i] as number) < 0 ? (th[i] as number) + 2 * Math.PI : (th[i] as number); // (0, 2π)
      const lik = new VonMises(theta[i] as number, 3);
      x[i] = lik.sample(1, rng).dataSync()[0] as number;
      lik.dispose();
    }
    const post = (xb: tf.Tensor) => {
      const xs = xb.dataSync();
      const eta = tf.tensor2d(Array.from(xs, (v) => [-2 + 3 * Math.cos(v), 3 * Math.sin(v)]));
      return { q: VonMises.fromNatural(eta), eta };
    };
    const posterior: PosteriorLike = {
      family: { circular: [true] },
      sample(xb, k, r) {
        const { q, eta } = post(xb as tf.Tensor);
        const s = tf.expandDims(q.sample(k, r), -1); // [k, B, 1]
        q.dispose();
        eta.dispose();
        return s;
      },
      mean(xb) {
        const { q, eta } = post(xb as tf.Tensor);
        const m = tf.expandDims(q.mean(), -1);
        q.dispose();
        eta.dispose();
        return m;
      },
      logProb(t, xb) {
        const { q, eta } = post(xb as tf.Tensor);
        const lp = q.logProb(tf.squeeze(t, [t.rank - 1]));
        q.dispose();
        eta.dispose();
        return lp;
      },
    };
    const pairs = { theta: tf.tensor2d(theta, [n, 1]), x: tf.tensor2d(x, [n, 1]) };
    const circ = sbc(posterior, { pairs, rng: createRng(2) });
    expect(circ.settings).toMatch(/antipode/);
    expect(circ.dims[0]!.withinBand).toBe(true);
    expect(circ.dims[0]!.ecdfPValue).toBeGreaterThan(0.05);
    // Ranking the same numbers on the line breaks (θ* in (0, 2π), draws in [−π, π)).
    const linear = sbc(posterior, { pairs, rng: createRng(2), circular: [false] });
    expect(linear.dims[0]!.withinBand).toBe(false);
    // HPD coverage uses the periodic density: calibrated too.
    const cov = expectedCoverage(posterior, { pairs, rng: createRng(3), samples: 500 });
    cov.levels.forEach((c, k) => {
      expect(Math.abs(cov.coverage[k]! - c)).toBeLessThan(0.1);
    });
  });
});

describe('expected coverage and z-score/contraction', () => {
  it('HPD coverage is on the diagonal for the exact posterior and below it for an over-confident one', () => {
    const pairs = testPairs(300, 12);
    const good = expectedCoverage(gaussianPosterior(1), { pairs, rng: createRng(4), samples: 500 });
    const bad = expectedCoverage(gaussianPosterior(0.25), { pairs, rng: createRng(4), samples: 500 });
    good.levels.forEach((_c, k) => {
      expect(good.coverage[k]!).toBeGreaterThanOrEqual(good.lower[k]! - 0.02);
      expect(good.coverage[k]!).toBeLessThanOrEqual(good.upper[k]! + 0.02);
    });
    const at50 = bad.levels.indexOf(0.5);
    expect(bad.coverage[at50]!).toBeLessThan(0.3); // chi²₂ with covariance /4: P(Q/4 ≤ q₀.₅) ≈ 0.16
  });

  it('z-scores are centred with unit spread and contraction is 1 − posterior/prior variance (closed form)', () => {
    const pairs = testPairs(400, 13);
    const r = zScoreContraction(gaussianPosterior(1), { pairs, rng: createRng(5), samples: 400 });
    for (let j = 0; j < 2; j++) {
      expect(Math.abs(r.meanZ[j]!)).toBeLessThan(0.15); // se ≈ 1/√400 = 0.05
      // E|z| = √(2/π) ≈ 0.798 for a calibrated Gaussian posterior
      expect(Math.abs(r.meanAbsZ[j]! - Math.sqrt(2 / Math.PI))).toBeLessThan(0.08);
      const want = 1 - (posteriorCov[j]![j] as number) / 1; // prior variance 1
      expect(Math.abs(r.contraction[j]! - want)).toBeLessThan(0.1);
    }
  });
});

describe('C2ST (sbibm protocol, 5-fold CV, MLP 10·dim; at most 60 epochs per fold here to keep tests short)', () => {
  it('≈ 0.5 for two samples of one distribution, ≈ 1 for two far apart', () => {
    const rng = createRng(30);
    const a = rng.normalTensor([300, 2]);
    const b = rng.normalTensor([300, 2]);
    const far = rng.normalTensor([300, 2], 6, 1);
    const same = c2st(a, b, { rng: createRng(31), maxEpochs: 60 });
    const apart = c2st(a, far, { rng: createRng(31), maxEpochs: 60 });
    expect(same.settings).toMatch(/MLP 2→20→20→1.*5-fold/);
    expect(same.foldAccuracies).toHaveLength(5);
    expect(Math.abs(same.accuracy - 0.5)).toBeLessThan(0.08);
    expect(apart.accuracy).toBeGreaterThan(0.97);
    tf.dispose([a, b, far]);
  });

  it('onlyFolds: disjoint folds give exactly the folds of one whole call (for running folds in parallel)', () => {
    const rng = createRng(32);
    const a = rng.normalTensor([300, 3]);
    const b = rng.normalTensor([300, 3], 0.5, 1);
    const all = c2st(a, b, { rng: createRng(33), maxEpochs: 30 });
    const even = c2st(a, b, { rng: createRng(33), maxEpochs: 30, onlyFolds: [0, 2, 4] });
    const odd = c2st(a, b, { rng: createRng(33), maxEpochs: 30, onlyFolds: [3, 1] });
    expect(all.folds).toEqual([0, 1, 2, 3, 4]);
    expect(even.folds).toEqual([0, 2, 4]);
    expect(odd.folds).toEqual([3, 1]);
    const byFold = new Map<number, number>();
    for (const r of [even, odd]) for (const [i, f] of r.folds.entries()) byFold.set(f, r.foldAccuracies[i]!);
    expect([0, 1, 2, 3, 4].map((f) => byFold.get(f))).toEqual(all.foldAccuracies);
    expect(even.epochs).toEqual([all.epochs[0], all.epochs[2], all.epochs[4]]);
    expect(even.accuracy).toBeCloseTo(
      (all.foldAccuracies[0]! + all.foldAccuracies[2]! + all.foldAccuracies[4]!) / 3,
      12,
    );
    expect(() => c2st(a, b, { rng: createRng(33), onlyFolds: [5] })).toThrow(/onlyFolds.*\[0, 4\]/);
    expect(() => c2st(a, b, { rng: createRng(33), onlyFolds: [] })).toThrow(/onlyFolds/);
    expect(() => c2st(a, b, { rng: createRng(33), onlyFolds: [1, 1] })).toThrow(/onlyFolds.*distinct/);
    tf.dispose([a, b]);
  });

  it('non-finite samples: one clear error naming the sample, row and column (not a C2ST of ≈ 0.5)', () => {
    const rows = () => Array.from({ length: 50 }, (_, i) => [i / 50, (i % 7) / 7]);
    const b = rows();
    b[17]![1] = Number.NaN;
    expect(() => c2st(rows(), b, { rng: createRng(1), maxEpochs: 2 })).toThrow(/b: row 17, column 1 is NaN/);
    const a = rows();
    a[3]![0] = Number.NEGATIVE_INFINITY;
    expect(() => c2st(a, rows(), { rng: createRng(1), maxEpochs: 2 })).toThrow(
      /a: row 3, column 0 is -Infinity/,
    );
  });

  // dim 2 (20 hidden units) and dim 5 (50: neither a multiple of the GEMM's 8-column panels)
  // (dim 5 stops at 40 epochs: its 50-unit classifier overfits 4,800 training points after that)
  it.each([
    [2, 200],
    [5, 40],
  ])(
    'reaches the Bayes accuracy Φ(δ/2) for N(0, I) against N(δ e₁, I) in dim %i (δ = 1: 0.6915)',
    (d, maxEpochs) => {
      const rng = createRng(40);
      const a = rng.normalTensor([3000, d]);
      const shift = tf.oneHot(tf.tensor1d([0], 'int32'), d).reshape([d]);
      const b = tf.add(rng.normalTensor([3000, d]), shift);
      const r = c2st(a, b, { rng: createRng(41), maxEpochs });
      console.log(
        `C2ST N(0,I) vs N(e1,I) in dim ${d}, Bayes accuracy 0.6915:`,
        r.accuracy,
        'epochs',
        r.epochs,
      );
      expect(r.settings).toContain(`MLP ${d}→${10 * d}→${10 * d}→1`);
      // standard error of an accuracy over 6,000 held-out points ≈ 0.006
      expect(Math.abs(r.accuracy - 0.6915)).toBeLessThan(0.025);
      tf.dispose([a, b, shift]);
    },
  );
});
