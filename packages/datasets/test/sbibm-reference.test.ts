import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findSbibmData,
  gaussianLinear,
  loadSbibmReference,
  parseNumberCsv,
  slcp,
  twoMoons,
  twoMoonsNoise,
} from '@gcvi/datasets';
import { createRng, FileFormatError } from '@gcvi/runtime';
import { describe, expect, it } from 'vitest';

// The sbibm data live in ../shared/fixtures/sbibm beside the checkout (never copied into the repo).
// Outside CI the suite is skipped when they are absent; in CI their absence is a failure.
const root = findSbibmData();
const run = root !== null || process.env.CI === 'true';

describe.skipIf(!run)('sbibm reference data', () => {
  const dataRoot = root as string;

  it('loads all 5 observations of each task: x, true θ, and 10,000 × dim reference samples', () => {
    expect(root, 'shared/fixtures/sbibm not found (set GCVI_SBIBM_DIR)').not.toBeNull();
    const tasks = [
      { name: 'gaussian_linear', task: gaussianLinear(), samples: false },
      { name: 'two_moons', task: twoMoons(), samples: true },
      { name: 'slcp', task: slcp(), samples: true },
    ] as const;
    for (const { name, task, samples } of tasks) {
      for (let o = 1; o <= 5; o++) {
        const ref = loadSbibmReference(name, o, dataRoot);
        expect(ref.x.length).toBe(task.xDim);
        expect(ref.trueTheta.length).toBe(task.thetaDim);
        expect(Number.isFinite(task.prior.logProbOne(ref.trueTheta))).toBe(true);
        // x_o is a draw from the model at the true θ: it has positive likelihood there.
        expect(Number.isFinite(task.logLikelihood(ref.trueTheta, ref.x))).toBe(true);
        if (samples) {
          expect(ref.samples?.rows).toBe(10000);
          expect(ref.samples?.dim).toBe(task.thetaDim);
          expect(ref.samples?.values.length).toBe(10000 * task.thetaDim);
          const s = ref.samples!.values;
          let outside = 0;
          for (let i = 0; i < 10000; i++) {
            const th = s.subarray(i * task.thetaDim, (i + 1) * task.thetaDim);
            if (task.prior.logProbOne(th) === Number.NEGATIVE_INFINITY) outside++;
          }
          expect(outside).toBe(0);
        } else {
          expect(ref.samples).toBeNull();
        }
      }
    }
  });

  it('two_moons: the reference posterior lies on the crescents our simulator draws', () => {
    // Under the posterior, θ ↦ x_o − shift(θ) is locally an isometry, so where the prior box does not
    // cut the crescents the implied noise has the model's law: r ~ N(0.1, 0.01²), a ~ U(−π/2, π/2).
    // Observation 5's crescents are cut by the box (mean angle −0.9), so only 1–4 are checked.
    const task = twoMoons();
    for (let o = 1; o <= 4; o++) {
      const ref = loadSbibmReference('two_moons', o, root as string);
      const s = ref.samples!;
      let sr = 0;
      let sr2 = 0;
      let sa = 0;
      let zeroLikelihood = 0;
      for (let i = 0; i < s.rows; i++) {
        const th = s.values.subarray(2 * i, 2 * i + 2);
        // Every reference sample has positive likelihood under our model (orientation and signs agree).
        if (task.logLikelihood(th, ref.x) === Number.NEGATIVE_INFINITY) zeroLikelihood++;
        const { r, a } = twoMoonsNoise(th, ref.x);
        sr += r;
        sr2 += r * r;
        sa += a;
      }
      expect(zeroLikelihood).toBe(0);
      const n = s.rows;
      const mean = sr / n;
      const sd = Math.sqrt(sr2 / n - mean * mean);
      expect(Math.abs(mean - 0.1)).toBeLessThan(5 * (0.01 / Math.sqrt(n)));
      expect(Math.abs(sd / 0.01 - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
      // a uniform on (−π/2, π/2): sd π/√12.
      expect(Math.abs(sa / n)).toBeLessThan((5 * Math.PI) / Math.sqrt(12 * n));
    }
  });

  it('slcp: the reference posterior has the four-fold sign symmetry and high likelihood', () => {
    const task = slcp();
    for (let o = 1; o <= 5; o++) {
      const ref = loadSbibmReference('slcp', o, root as string);
      const s = ref.samples!;
      let p3 = 0;
      let p4 = 0;
      let llRef = 0;
      for (let i = 0; i < s.rows; i++) {
        if (s.values[5 * i + 2]! > 0) p3++;
        if (s.values[5 * i + 3]! > 0) p4++;
        if (i < 2000) llRef += task.logLikelihood(s.values.subarray(5 * i, 5 * i + 5), ref.x) / 2000;
      }
      // The likelihood depends on θ3, θ4 only through their squares: each sign has probability 1/2.
      expect(Math.abs(p3 / s.rows - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / s.rows));
      expect(Math.abs(p4 / s.rows - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / s.rows));
      // Reference samples are where our likelihood is high: far above prior draws on average.
      const prior = task.prior.sampleArray(2000, createRng(o));
      let llPrior = 0;
      for (let i = 0; i < 2000; i++)
        llPrior += task.logLikelihood(prior.subarray(5 * i, 5 * i + 5), ref.x) / 2000;
      expect(llRef - llPrior).toBeGreaterThan(20);
    }
  });

  it('gaussian_linear: the exact posterior of each observation is N(x_o / 2, 0.05 I)', () => {
    const task = gaussianLinear();
    const ref = loadSbibmReference('gaussian_linear', 1, root as string);
    const post = task.posterior(ref.x);
    post.mean.forEach((m, j) => {
      expect(m).toBeCloseTo(ref.x[j]! / 2, 12);
    });
  });
});

describe('sbibm loader errors', () => {
  it('names the file and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-sbibm-'));
    try {
      expect(() => loadSbibmReference('two_moons', 1, dir)).toThrow(FileFormatError);
      const obs = join(dir, 'two_moons', 'num_observation_1');
      mkdirSync(obs, { recursive: true });
      writeFileSync(join(obs, 'observation.csv'), 'data_1,data_2\n0.1,abc\n');
      expect(() => loadSbibmReference('two_moons', 1, dir)).toThrow(/observation.csv: line 2, column 2/);
      writeFileSync(join(obs, 'observation.csv'), 'data_1,data_2\n0.1,0.2\n');
      expect(() => loadSbibmReference('two_moons', 1, dir)).toThrow(/true_parameters.csv: file not found/);
      writeFileSync(join(obs, 'true_parameters.csv'), 'parameter_1,parameter_2\n0.1,0.2\n');
      writeFileSync(join(obs, 'reference_posterior_samples.csv.bz2'), 'not bzip2');
      expect(() => loadSbibmReference('two_moons', 1, dir)).toThrow(
        /reference_posterior_samples.csv.bz2: not a valid bzip2/,
      );
      expect(() => parseNumberCsv('a,b,c\n1,2,3\n', 'f.csv', 2)).toThrow(/f.csv: expected 2 columns/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
