/**
 * E4's data, one schema per thing written and read back: a run's config, its metric rows and its
 * result (`summary.json`), used by the run to write and by the store (on load) and the analysis to
 * read back.
 */
import { z } from 'zod';
import { real } from '../../core/schema-types.js';
import { generatorConfigSchema } from '../e3/generator.js';

export const E4_METHODS = ['forwardKl', 'elbo'] as const;
export type E4Method = (typeof E4_METHODS)[number];

/**
 * One E4 run: the rotated-MNIST toy with N images whose latents z are known; q(θ | x) is Normal
 * with mean `meanScale`·η1 and fixed sd `qSd`, η from the set-averaged angle encoder. `forwardKl`
 * (L_P) trains on one simulated set per step (the known z, a fresh angle and noise); `elbo` fits
 * the observed set with K reparameterized draws.
 */
export const e4ConfigSchema = z
  .object({
    method: z.enum(E4_METHODS),
    generator: generatorConfigSchema,
    nImages: z.number().int().min(1),
    noiseSd: z.number().positive(),
    qSd: z.number().positive(),
    meanScale: z.number().positive(),
    steps: z.number().int().min(1),
    lr: z.number().positive(),
    /**
     * Period of the step-divide learning-rate schedule (lr / c, c = 2, 4, 6, … every `lrEvery`
     * steps, the E2 schedule); 0 or absent keeps lr constant (the paper's E4). The plans set it
     * for L_P only, so ELBO configs (and their run ids) are those of the paper's constant rate.
     */
    lrEvery: z.number().int().nonnegative().optional(),
    /** L_P: simulated sets (each at its own random angle, the known z) per step; absent = 1 (the paper). */
    setsPerStep: z.number().int().min(1).optional(),
    /** ELBO: reparameterized draws per step. */
    particles: z.number().int().min(1),
    /** Metrics every this many steps. */
    evalEvery: z.number().int().min(1),
    /** Exact posterior grid: coarse spacing over the circle, then a fine window around its peak. */
    gridCoarseDeg: z.number().positive().max(10),
    gridFineHalfWidthDeg: z.number().positive(),
    gridFinePoints: z.number().int().min(3),
    seed: z.number().int().nonnegative(),
    /** Seed of the known latents and the observed set (shared by both runs). */
    dataSeed: z.number().int().nonnegative(),
    checkpointEvery: z.number().int().min(1),
    /**
     * Final metrics of the tail mean of the iterates after steps `averageFrom + 1 … steps`
     * (`fit`'s `average`) instead of the last iterate; absent (the paper's E4): the last iterate.
     */
    averageFrom: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((c) => c.averageFrom === undefined || c.averageFrom < c.steps, {
    message: 'averageFrom must be below steps',
    path: ['averageFrom'],
  });

export type E4Config = z.infer<typeof e4ConfigSchema>;

const gaussianMetrics = {
  /** KL(p ‖ q) with q = Normal(mu, sd) on the real line and θ in [0, 2π). */
  forwardKl: real,
  /** KL(q ‖ p) = log p(x) − ELBO(q). */
  reverseKl: real,
  elbo: real,
  /** −log q(θ_true). */
  nll: real,
};

/** Metric rows: the Gaussian metrics, the mean and the mode every `evalEvery` steps. */
export const e4MetricRowSchema = z
  .object({
    kind: z.literal('metrics'),
    step: z.number().int(),
    ...gaussianMetrics,
    mu: real,
    angleDeg: real,
  })
  .strict();
export type E4MetricRow = z.infer<typeof e4MetricRowSchema>;

/** What one E4 run returns. */
export const e4RunResultSchema = z
  .object({
    method: z.enum(E4_METHODS),
    /** Of the tail mean of the iterates when the config has `averageFrom`, else of the last iterate. */
    final: z.object({ ...gaussianMetrics, angleDeg: real }).strict(),
    /** With `averageFrom`: the same metrics of the last iterate, for comparison. */
    lastIterate: z
      .object({ ...gaussianMetrics, angleDeg: real })
      .strict()
      .optional(),
    logEvidence: z.number(),
    posteriorModeDeg: z.number(),
    /** Posterior sd (radians) from the grid. */
    posteriorSd: z.number(),
    trueAngleDeg: z.number(),
    steps: z.number().int(),
    skippedSteps: z.number().int(),
    generator: z.string(),
  })
  .strict();
export type E4RunResult = z.infer<typeof e4RunResultSchema>;
