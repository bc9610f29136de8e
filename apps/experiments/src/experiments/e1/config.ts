import { z } from 'zod';
import type { ProfileName } from '../../core/types.js';

/**
 * One E1 run: one width, the full network and its linearized twin trained one after the other on
 * the same data stream (the same `seed` → the same batches), evaluated on the same fixed test set
 * and tracked inputs (from `dataSeed`, shared by every width).
 */
export const e1ConfigSchema = z
  .object({
    width: z.number().int().min(1).max(65536),
    /** Training steps of each model. */
    steps: z.number().int().min(1),
    /** Fresh (θ, x) pairs per step. */
    batchSize: z.number().int().min(1),
    /** lr at step n = 1 / (1/lr0 + n/lrScale). */
    lr0: z.number().positive(),
    lrScale: z.number().positive(),
    /** Noise sd of the simulator. */
    sigma: z.number().positive(),
    /** Added to the encoder output: η = f(x) + etaOffset (the paper's 1e-4). */
    etaOffset: z.number().min(0),
    /** Test NLL every this many steps, on `testSize` fixed pairs. */
    evalEvery: z.number().int().min(1),
    testSize: z.number().int().min(1),
    /** Jacobian / NTK statistics every this many steps, on `trackSize` fixed inputs. */
    trackEvery: z.number().int().min(1),
    trackSize: z.number().int().min(1),
    /** Bin width of the exact posterior grid. */
    gridBinWidth: z.number().positive().max(0.1),
    /** Seed of the run: initialization and the training data stream. */
    seed: z.number().int().nonnegative(),
    /** Seed of the fixed test set and tracked inputs (the same for every width). */
    dataSeed: z.number().int().nonnegative(),
    /** Steps between checkpoints. */
    checkpointEvery: z.number().int().min(1),
  })
  .strict()
  .refine((c) => c.evalEvery <= c.steps, { message: 'evalEvery must be ≤ steps', path: ['evalEvery'] })
  .refine((c) => c.trackEvery <= c.steps, { message: 'trackEvery must be ≤ steps', path: ['trackEvery'] });

export type E1Config = z.infer<typeof e1ConfigSchema>;

/** DESIGN §2 E1, exactly. */
export const PAPER: Omit<E1Config, 'width'> & { widths: number[] } = {
  widths: [64, 128, 256, 512, 1024, 2048, 4096],
  steps: 200_000,
  batchSize: 16,
  lr0: 1e-4,
  lrScale: 10,
  sigma: 0.5,
  etaOffset: 1e-4,
  evalEvery: 500,
  testSize: 1000,
  trackEvery: 250,
  trackSize: 100,
  gridBinWidth: 1e-3,
  seed: 0,
  dataSeed: 1,
  checkpointEvery: 5000,
};

/** What each profile changes relative to PAPER. */
export const PROFILE_SETTINGS: Record<ProfileName, Partial<typeof PAPER>> = {
  quick: {
    widths: [64, 256, 1024],
    steps: 600,
    evalEvery: 100,
    trackEvery: 100,
    testSize: 200,
    trackSize: 20,
    checkpointEvery: 300,
  },
  default: {
    widths: [64, 256, 1024, 4096],
    steps: 20_000,
    evalEvery: 500,
    trackEvery: 500,
    checkpointEvery: 2500,
  },
  paper: {},
};

export function e1Plan(profile: ProfileName): E1Config[] {
  const { widths, ...rest } = { ...PAPER, ...PROFILE_SETTINGS[profile] };
  return widths.map((width) => ({ ...rest, width }));
}

/** Human-readable differences between a profile and the paper's configuration. */
export function e1Deviations(profile: ProfileName): string[] {
  const p = PROFILE_SETTINGS[profile];
  const out: string[] = [];
  if (p.widths) {
    out.push(`Widths ${p.widths.join(', ')} instead of ${PAPER.widths.join(', ')}.`);
  }
  if (p.steps !== undefined)
    out.push(
      `${p.steps.toLocaleString('en')} training steps per model instead of ${PAPER.steps.toLocaleString('en')}.`,
    );
  if (p.evalEvery !== undefined && p.evalEvery !== PAPER.evalEvery)
    out.push(`Test NLL every ${p.evalEvery} steps instead of ${PAPER.evalEvery}.`);
  if (p.trackEvery !== undefined && p.trackEvery !== PAPER.trackEvery)
    out.push(`Jacobian/NTK statistics every ${p.trackEvery} steps instead of ${PAPER.trackEvery}.`);
  if (p.testSize !== undefined && p.testSize !== PAPER.testSize)
    out.push(`${p.testSize} test pairs instead of ${PAPER.testSize}.`);
  if (p.trackSize !== undefined && p.trackSize !== PAPER.trackSize)
    out.push(`${p.trackSize} tracked inputs instead of ${PAPER.trackSize}.`);
  return out;
}
