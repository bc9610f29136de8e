/**
 * E1's data, one schema per thing written and read back: a run's config, its metric rows, its
 * result (`summary.json`) and the experiment's summary (`summary.e1`). The run writes through these
 * types; analysis reads back through the same schemas (the store checks them on load), so no value
 * is cast between run, analysis and report.
 */
import { z } from 'zod';
import { real } from '../../core/schema-types.js';

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
    /**
     * Objective by registry name (`--objective`; a plugin's needs `--plugin`). Absent: the paper's
     * L_P (`forward-kl`) with the von Mises family. An objective that needs reparameterized samples
     * (`rsample`, e.g. `elbo`, `renyi`) gets a Normal family on the angle instead (the von Mises has
     * no reparameterized sampler) and fits a fixed observed set drawn from `dataSeed`.
     */
    objective: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => c.evalEvery <= c.steps, { message: 'evalEvery must be ≤ steps', path: ['evalEvery'] })
  .refine((c) => c.trackEvery <= c.steps, { message: 'trackEvery must be ≤ steps', path: ['trackEvery'] });

export type E1Config = z.infer<typeof e1ConfigSchema>;

export const MODELS = ['full', 'linear'] as const;
export type E1Model = (typeof MODELS)[number];
const perModel = z.object({ full: z.number(), linear: z.number() }).strict();

/** Metric rows of an E1 run (`metrics.jsonl`). */
export const e1TestNllRowSchema = z
  .object({
    kind: z.literal('testNll'),
    model: z.enum(MODELS),
    step: z.number().int(),
    nll: real,
    exactNll: z.number(),
  })
  .strict();
export const e1NtkRowSchema = z
  .object({
    kind: z.literal('ntk'),
    model: z.literal('full'),
    step: z.number().int(),
    jacobianDistance: real,
    ntkDistance: real,
    eig1: real,
    eig2: real,
  })
  .strict();
export const e1MetricRowSchema = z.discriminatedUnion('kind', [e1TestNllRowSchema, e1NtkRowSchema]);
export type E1TestNllRow = z.infer<typeof e1TestNllRowSchema>;
export type E1NtkRow = z.infer<typeof e1NtkRowSchema>;
export type E1MetricRow = z.infer<typeof e1MetricRowSchema>;

/** What one E1 run returns (its `summary.json` result). */
export const e1RunResultSchema = z
  .object({
    width: z.number().int(),
    steps: z.number().int(),
    /** The objective trained with (`forward-kl` unless the config names another). */
    objective: z.string(),
    /** Exact-posterior NLL on the run's test set (the same set for every width). */
    exactNll: z.number(),
    /** Test NLL at the last evaluation, per model. */
    finalTestNll: z.object({ full: real, linear: real }).strict(),
    skippedSteps: perModel,
    /** Last tracked ‖J_t − J_0‖_F (mean over tracked x), full network. */
    jacobianDistance: real,
    /** Last tracked ‖K_t(x,x) − K_0(x,x)‖_F (mean over tracked x), full network. */
    ntkDistance: real,
    /** Last tracked mean |λ1| of K_t(x,x) − K_0(x,x), full network. */
    ntkEig1: real,
    /**
     * Smallest eigenvalue of the empirical NTK Gram matrix ((N·2)², tracked inputs × outputs) at
     * initialization. Singular when 2·width < 2·N: at φ0 only the last layer's 2·width parameters
     * have a nonzero gradient.
     */
    ntkMinEigenvalue: real,
    /** The same at the end of training (all parameters contribute). */
    ntkMinEigenvalueFinal: real,
    /**
     * Extreme eigenvalues of the infinite-width NTK Gram (N × N, last-layer part: the limit at the
     * E1 initialization) on the tracked inputs, in float64, and its resolution N·ε·λ_max.
     */
    infiniteNtk: z.object({ min: z.number(), max: z.number(), resolution: z.number() }).strict(),
  })
  .strict();
export type E1RunResult = z.infer<typeof e1RunResultSchema>;

const perWidth = z.record(z.string(), real);
const perModelWidth = z.object({ full: perWidth, linear: perWidth }).strict();

/** `summary.e1`: nested objects keyed by model and by width as a string, e.g. `finalTestNll.full["1024"]`. */
export const e1SummarySchema = z
  .object({
    objective: z.string(),
    exactNll: z.number(),
    widths: z.string(),
    steps: z.number().int(),
    finalTestNll: perModelWidth,
    gapToExact: perModelWidth,
    fullMinusLinear: perWidth,
    jacobianDistance: perWidth,
    ntkDistance: perWidth,
    ntkMinEigenvalue: perWidth,
    ntkMinEigenvalueFinal: perWidth,
    infiniteNtkMinEigenvalue: z.number(),
    skippedSteps: perModelWidth,
  })
  .strict();
export type E1Summary = z.infer<typeof e1SummarySchema>;

/** Settings a custom profile file may change (`{ "e1": { "widths": [64], "steps": 40 } }`). */
export const e1SettingsSchema = z
  .object({
    widths: z.array(z.number().int().min(1)).min(1),
    steps: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    evalEvery: z.number().int().min(1),
    testSize: z.number().int().min(1),
    trackEvery: z.number().int().min(1),
    trackSize: z.number().int().min(1),
    checkpointEvery: z.number().int().min(1),
    seed: z.number().int().nonnegative(),
    dataSeed: z.number().int().nonnegative(),
  })
  .partial()
  .strict();
export type E1Settings = z.infer<typeof e1SettingsSchema>;
