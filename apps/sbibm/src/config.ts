import { ConfigError } from '@gcvi/runtime';
import { z } from 'zod';

export const TASKS = ['gaussian_linear', 'two_moons', 'slcp'] as const;
export const FAMILIES = ['flow', 'gaussian'] as const;
export const BUDGETS = [1000, 10000, 100000] as const;
export type TaskName = (typeof TASKS)[number];
export type FamilyName = (typeof FAMILIES)[number];

/** sbi's published NPE (neural spline flow) C2ST, mean over observations 1–10 (sbi-benchmark/results). */
export const SBI_NPE: Record<TaskName, Record<number, number>> = {
  gaussian_linear: { 1000: 0.694, 10000: 0.552, 100000: 0.506 },
  two_moons: { 1000: 0.725, 10000: 0.606, 100000: 0.542 },
  slcp: { 1000: 0.975, 10000: 0.901, 100000: 0.831 },
};

const trainingSchema = z.strictObject({
  /** Minibatch size per budget (key: budget). */
  batchSize: z.record(z.string(), z.number().int().positive()),
  learningRate: z.number().positive(),
  validationFraction: z.number().gt(0).lt(1),
  patience: z.number().int().positive(),
  /** Upper bound on epochs per budget (key: budget). */
  maxEpochs: z.record(z.string(), z.number().int().positive()),
  clipNorm: z.number().positive(),
});

const flowSchema = z.strictObject({
  layers: z.number().int().positive(),
  bins: z.number().int().min(2),
  hidden: z.number().int().positive(),
  /** Embedding size = max(minContext, contextPerDim · dim). */
  contextPerDim: z.number().int().positive(),
  minContext: z.number().int().positive(),
  /**
   * The flow's embedding of (z-scored) x: `linear`, a trainable linear map with N(0, 1) initial
   * weights (sbi's NSF reads x itself: its embedding net is the identity), or `mlp`, the encoder
   * of `encoderHidden` (ReLU, NTK parameterization, last layer zero at init). The Gaussian family
   * always uses `mlp`.
   */
  embedding: z.enum(['linear', 'mlp']),
});

export const configSchema = z.strictObject({
  profile: z.enum(['quick', 'default', 'full']),
  tasks: z.array(z.enum(TASKS)).min(1),
  budgets: z.array(z.number().int().positive()).min(1),
  families: z.array(z.enum(FAMILIES)).min(1),
  observations: z.array(z.number().int().min(1).max(5)).min(1),
  /** Posterior draws per observation, and reference draws used (sbibm: 10,000 each). */
  samples: z.number().int().min(100).max(10000),
  encoderHidden: z.array(z.number().int().positive()).min(1),
  flow: flowSchema,
  training: trainingSchema,
  /** C2ST classifier: sbibm's (sklearn MLPClassifier defaults); `maxEpochs` caps each fold. */
  c2st: z.strictObject({ folds: z.number().int().min(2), maxEpochs: z.number().int().positive() }),
  seed: z.number().int().nonnegative(),
  /** Results folder (c2st.csv, table.md, cells/). */
  out: z.string().min(1),
  /** sbibm reference data folder; null: `$GCVI_SBIBM_DIR` or `../shared/fixtures/sbibm` found walking up. */
  data: z.string().min(1).nullable(),
});
export type SbibmConfig = z.infer<typeof configSchema>;

const training = {
  batchSize: { '1000': 200, '10000': 200, '100000': 200 },
  learningRate: 5e-4,
  validationFraction: 0.1,
  patience: 20,
  maxEpochs: { '1000': 500, '10000': 150, '100000': 100 },
  clipNorm: 5,
};

const base = {
  samples: 10000,
  encoderHidden: [50, 50],
  flow: { layers: 5, bins: 10, hidden: 50, contextPerDim: 2, minContext: 4, embedding: 'linear' as const },
  training,
  c2st: { folds: 5, maxEpochs: 10000 },
  seed: 0,
  out: 'results',
  data: null,
};

/**
 * Profiles. `quick`: two_moons, 10³ simulations, observation 1, the flow only, 1,000 draws, a
 * smaller flow and a capped run (a smoke test of the whole pipeline inside `pnpm test`). `default`: every task at 10³
 * and 10⁴ simulations, both families, observations 1–5 (the issue's first two columns; see the
 * README for what finished on the shared machine and estimates). `full`: every cell of the issue's table, 10⁵ included.
 */
export const PROFILES: Record<SbibmConfig['profile'], SbibmConfig> = {
  quick: {
    ...base,
    profile: 'quick',
    tasks: ['two_moons'],
    budgets: [1000],
    families: ['flow'],
    observations: [1],
    samples: 1000,
    flow: { layers: 2, bins: 8, hidden: 32, contextPerDim: 2, minContext: 4, embedding: 'linear' },
    encoderHidden: [32],
    training: { ...training, learningRate: 2e-3, batchSize: { '1000': 100 }, maxEpochs: { '1000': 12 } },
    c2st: { folds: 5, maxEpochs: 50 },
  },
  default: {
    ...base,
    profile: 'default',
    tasks: [...TASKS],
    budgets: [1000, 10000],
    families: [...FAMILIES],
    observations: [1, 2, 3, 4, 5],
  },
  full: {
    ...base,
    profile: 'full',
    tasks: [...TASKS],
    budgets: [...BUDGETS],
    families: [...FAMILIES],
    observations: [1, 2, 3, 4, 5],
  },
};

/** Validate a config; the first problem becomes one ConfigError naming the field. */
export function parseConfig(raw: unknown): SbibmConfig {
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(issue.path.join('.') || 'config', issue.message);
  }
  const c = r.data;
  for (const b of c.budgets) {
    if (c.training.batchSize[String(b)] === undefined)
      throw new ConfigError(`training.batchSize.${b}`, `no minibatch size for budget ${b}`);
    if (c.training.maxEpochs[String(b)] === undefined)
      throw new ConfigError(`training.maxEpochs.${b}`, `no epoch cap for budget ${b}`);
  }
  return c;
}
