import type { ProfileName } from '../../core/types.js';
import { PAPER as E3_PAPER, tailStart } from '../e3/config.js';
import { E3_PROFILES } from '../e3/index.js';

import { E4_METHODS, type E4Config, type E4Method, e4ConfigSchema } from './schema.js';

export { E4_METHODS, type E4Config, type E4Method, e4ConfigSchema };

type Shared = Omit<E4Config, 'method' | 'generator' | 'steps' | 'lrEvery' | 'setsPerStep'> & {
  generator: Omit<E4Config['generator'], 'source'>;
  /** L_P: steps, step-divide period (0 = constant lr) and simulated sets per step. */
  lp: { steps: number; lrEvery: number; setsPerStep: number };
  elbo: { steps: number };
  /** Final metrics of the mean of each run's last third of iterates (false in the paper's profile). */
  averageTail: boolean;
};

/** DESIGN §2 E4. */
export const PAPER: Shared = {
  generator: E3_PAPER.generator,
  nImages: 100,
  noiseSd: 0.01,
  qSd: 0.5,
  meanScale: 0.5,
  lr: 1e-3,
  lp: { steps: 10_000, lrEvery: 0, setsPerStep: 1 },
  elbo: { steps: 10_000 },
  particles: 1000,
  evalEvery: 20,
  gridCoarseDeg: 0.5,
  gridFineHalfWidthDeg: 0.5,
  gridFinePoints: 1001,
  seed: 0,
  dataSeed: 2,
  checkpointEvery: 1000,
  averageTail: false,
};

export const PROFILE_SETTINGS: Record<ProfileName, Partial<Shared>> = {
  quick: {
    generator: E3_PROFILES.quick.generator!,
    nImages: 10,
    lp: { steps: 12, lrEvery: 0, setsPerStep: 1 },
    elbo: { steps: 12 },
    particles: 4,
    evalEvery: 4,
    gridCoarseDeg: 5,
    gridFinePoints: 21,
    checkpointEvery: 6,
    averageTail: true,
  },
  default: {
    generator: E3_PROFILES.default.generator!,
    // L_P: 2,000 steps with the rate divided every 250 (issue 15 study, paper's generator: the
    // angle's sd between evaluations over steps 1,500–2,000 was 8.6°, final 263.0° at the exact
    // mode 260.0°, against ±50° swings at a constant 1e-3 after 1,000 steps). The ELBO keeps the paper's constant rate; 1,000 steps (it stays where it starts).
    lp: { steps: 2000, lrEvery: 250, setsPerStep: 1 },
    elbo: { steps: 1000 },
    particles: 16,
    checkpointEvery: 250,
    // The final metrics are of the mean of each run's last third of iterates (as in E3): the L_P
    // angle still moves by sd ≈ 9° between evaluations over steps 1,500–2,000.
    averageTail: true,
  },
  paper: {},
};

export function e4Settings(profile: ProfileName): Shared {
  return { ...PAPER, ...PROFILE_SETTINGS[profile] };
}

/** The runs of a profile; `generatorSource` is `trained` or a checkpoint path (`--generator`). */
export function e4Plan(profile: ProfileName, generatorSource = 'trained'): E4Config[] {
  const { generator, lp, elbo, averageTail, ...rest } = e4Settings(profile);
  const gen = { ...generator, source: generatorSource };
  const tail = (steps: number) => (averageTail ? { averageFrom: tailStart(steps) } : {});
  return E4_METHODS.map((method) =>
    method === 'forwardKl'
      ? {
          ...rest,
          method,
          generator: gen,
          steps: lp.steps,
          // only when they differ from the paper, so the paper's configs keep their run ids
          ...(lp.lrEvery > 0 ? { lrEvery: lp.lrEvery } : {}),
          ...(lp.setsPerStep !== 1 ? { setsPerStep: lp.setsPerStep } : {}),
          ...tail(lp.steps),
        }
      : { ...rest, method, generator: gen, steps: elbo.steps, ...tail(elbo.steps) },
  );
}

export function e4Deviations(profile: ProfileName): string[] {
  const s = e4Settings(profile);
  const out = [
    'Forward KL, reverse KL and log p(x) come from the exact posterior on a grid (coarse over the circle plus a fine window at its peak), not from self-normalized importance sampling with 1,000 prior draws: with σ = 0.01 the posterior is so narrow that 1,000 prior draws give an effective sample size of about one.',
    'The prior on θ is uniform on the circle (the likelihood is periodic), so the Gaussian q may put mass outside [0, 2π).',
  ];
  if (profile === 'paper') return out;
  const P = PAPER;
  if (s.nImages !== P.nImages) out.push(`${s.nImages} images instead of ${P.nImages}.`);
  if (s.lp.steps !== P.lp.steps)
    out.push(`L_P: ${s.lp.steps.toLocaleString('en')} steps instead of ${P.lp.steps.toLocaleString('en')}.`);
  if (s.elbo.steps !== P.elbo.steps)
    out.push(
      `ELBO: ${s.elbo.steps.toLocaleString('en')} steps instead of ${P.elbo.steps.toLocaleString('en')}.`,
    );
  if (s.lp.lrEvery !== P.lp.lrEvery)
    out.push(
      `L_P: learning rate ${s.lr} divided by 2, 4, 6, … every ${s.lp.lrEvery} steps (the E2 schedule) instead of constant.`,
    );
  if (s.lp.setsPerStep !== P.lp.setsPerStep)
    out.push(`L_P: ${s.lp.setsPerStep} simulated sets per step instead of ${P.lp.setsPerStep}.`);
  if (s.averageTail !== P.averageTail)
    out.push(
      "L_P and ELBO: the final metrics are those of the mean of each run's last third of iterates (Polyak–Ruppert tail averaging), not of the last iterate; the report gives both.",
    );
  if (s.particles !== P.particles) out.push(`ELBO with K = ${s.particles} draws instead of ${P.particles}.`);
  if (s.evalEvery !== P.evalEvery) out.push(`Metrics every ${s.evalEvery} steps instead of ${P.evalEvery}.`);
  if (s.gridCoarseDeg !== P.gridCoarseDeg || s.gridFinePoints !== P.gridFinePoints)
    out.push(`Posterior grid: ${s.gridCoarseDeg}° coarse spacing, ${s.gridFinePoints} fine points.`);
  return out;
}
