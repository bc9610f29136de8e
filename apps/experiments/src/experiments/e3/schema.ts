/**
 * E3's data, one schema per thing written and read back: a run's config, its metric rows and its
 * result (`summary.json`), used by the run to write and by the store (on load) and the analysis to
 * read back.
 */
import { z } from 'zod';
import { real } from '../../core/schema-types.js';
import { generatorConfigSchema } from './generator.js';

export const E3_METHODS = ['forwardKl', 'iwbo'] as const;
export type E3Method = (typeof E3_METHODS)[number];

/**
 * One E3 run: one method from one initialization. `forwardKl` (L_P) trains the set-averaged angle
 * encoder on simulated sets with the target angle shifted by `initDeg` (the "initialization" is
 * that offset; the estimate is corrected by it). `iwbo` fits θ as a model parameter started at
 * `initDeg`, with a per-image Gaussian encoder for z and K importance particles.
 */
export const e3ConfigSchema = z
  .object({
    method: z.enum(E3_METHODS),
    initDeg: z.number().min(0).lt(360),
    generator: generatorConfigSchema,
    /** Images of the fixed observed set (true angle 260°). */
    observedImages: z.number().int().min(1),
    /** Images per simulated set (L_P). */
    setImages: z.number().int().min(1),
    /** L_P: simulated sets (each at its own random angle) per step. */
    setsPerStep: z.number().int().min(1),
    noiseSd: z.number().positive(),
    steps: z.number().int().min(1),
    lr: z.number().positive(),
    /**
     * L_P: period of the step-divide learning-rate schedule (lr / c, c = 2, 4, 6, … every `lrEvery`
     * steps, the E2 schedule); 0 or absent keeps lr constant (the paper's E3). The plans set it
     * only when it is not 0 and only for L_P (IWBO keeps lr constant), so other configs keep their run ids.
     */
    lrEvery: z.number().int().nonnegative().optional(),
    /** IWBO: importance particles per image and images per minibatch. */
    particles: z.number().int().min(1),
    minibatch: z.number().int().min(1),
    /** Record the angle estimate every this many steps. */
    evalEvery: z.number().int().min(1),
    seed: z.number().int().nonnegative(),
    /** Seed of the fixed observed set (shared by every run). */
    dataSeed: z.number().int().nonnegative(),
    checkpointEvery: z.number().int().min(1),
    /**
     * Estimate from the tail mean of the iterates after steps `averageFrom + 1 … steps`
     * (`fit`'s `average`; Polyak–Ruppert) instead of the last iterate. Absent (the paper's E3):
     * the last iterate. The plans set it only in profiles that average, so other configs keep
     * their run ids.
     */
    averageFrom: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((c) => c.minibatch <= c.observedImages, {
    message: 'minibatch must be ≤ observedImages',
    path: ['minibatch'],
  })
  .refine((c) => c.averageFrom === undefined || c.averageFrom < c.steps, {
    message: 'averageFrom must be below steps',
    path: ['averageFrom'],
  });

export type E3Config = z.infer<typeof e3ConfigSchema>;

/** Metric rows: the angle estimate every `evalEvery` steps. */
export const e3MetricRowSchema = z
  .object({ kind: z.literal('angle'), step: z.number().int(), angleDeg: real })
  .strict();
export type E3MetricRow = z.infer<typeof e3MetricRowSchema>;

/** What one E3 run returns. */
export const e3RunResultSchema = z
  .object({
    method: z.enum(E3_METHODS),
    initDeg: z.number(),
    /**
     * Final estimate of the angle in degrees in [0, 360), offset-corrected for L_P: of the tail
     * mean of the iterates when the config has `averageFrom`, else of the last iterate.
     */
    finalAngleDeg: real,
    /** With `averageFrom`: the last iterate's angle, for comparison (same units). */
    lastIterateAngleDeg: real.optional(),
    trueAngleDeg: z.number(),
    steps: z.number().int(),
    skippedSteps: z.number().int(),
    generator: z.string(),
    /** First 100 observed images, 0..255 bytes in base64 (Figure 3); only in the L_P run from 0°. */
    observedGrid: z.string().optional(),
    /** 60 unrotated samples of the generator, same encoding (only in the L_P run from 0°). */
    generatorSamples: z.string().optional(),
  })
  .strict();
export type E3RunResult = z.infer<typeof e3RunResultSchema>;
