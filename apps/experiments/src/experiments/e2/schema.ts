/**
 * E2's data, one schema per thing written and read back: a run's config, its metric rows and its
 * result (`summary.json`), used by the run to write and by the store (on load) and the analysis to
 * read back.
 */
import { z } from 'zod';
import { real } from '../../core/schema-types.js';
import { PARAMETERIZATIONS } from './family.js';

export const OBJECTIVES = ['forward-kl', 'elbo'] as const;
export type E2Objective = (typeof OBJECTIVES)[number];

/** One E2 run: one replicate seed, one objective, one parameterization. */
export const e2ConfigSchema = z
  .object({
    /** Replicate seed: observed data (S fixed, Z and X drawn once) and the initialization. */
    seed: z.number().int().nonnegative(),
    objective: z.enum(OBJECTIVES),
    parameterization: z.enum(PARAMETERIZATIONS),
    /** Points per data set. */
    nPoints: z.number().int().min(1),
    steps: z.number().int().min(1),
    /** Adam lr0 and the period of the step-divide schedule (lr0 / c, c = 2, 4, 6, …). */
    lr: z.number().positive(),
    lrEvery: z.number().int().min(1),
    /** Reparameterized samples of the ELBO (self-normalized weighting of the reference). */
    K: z.number().int().min(1),
    width: z.number().int().min(1),
    heads: z.number().int().min(1),
    /** The fixed true shift S of the observed data. */
    trueShift: z.number(),
    /** Steps between checkpoints. */
    checkpointEvery: z.number().int().min(1),
    /** Attention through the fused kernel of `@gcvi/kernels` (speed only; same model). */
    fusedAttention: z.boolean(),
  })
  .strict()
  .refine((c) => c.width % c.heads === 0, { message: 'heads must divide width', path: ['heads'] });

export type E2Config = z.infer<typeof e2ConfigSchema>;

/** Metric rows: the training loss (null where it was not finite). */
export const e2MetricRowSchema = z
  .object({ kind: z.literal('train'), step: z.number().int(), loss: z.number().nullable() })
  .strict();
export type E2MetricRow = z.infer<typeof e2MetricRowSchema>;

/** A finished replicate. */
export const e2RunResultSchema = z
  .object({
    seed: z.number().int(),
    objective: z.enum(OBJECTIVES),
    parameterization: z.enum(PARAMETERIZATIONS),
    trueZ: z.array(z.number()),
    trueShift: z.number(),
    /** Mode of q(Z | X) at the observed X. */
    modeZ: z.array(real),
    /** Mode of q(S | X). */
    modeS: real,
    sdZ: z.array(real),
    sdS: real,
    inOrder: z.boolean(),
    matched: z.boolean(),
    l1: real,
    /** Mean loss over the last 10% of steps. */
    finalLoss: real,
    stepsDone: z.number().int(),
    skippedSteps: z.number().int(),
  })
  .strict();
export type E2RunResult = z.infer<typeof e2RunResultSchema>;

/** A replicate whose fit stopped numerically: recorded by seed (deterministic in its config). */
export const e2FailedRunSchema = z
  .object({
    failed: z.literal(true),
    seed: z.number().int(),
    objective: z.enum(OBJECTIVES),
    parameterization: z.enum(PARAMETERIZATIONS),
    error: z.string(),
  })
  .strict();
export type E2FailedRun = z.infer<typeof e2FailedRunSchema>;

/** What one E2 run returns: a result, or the record of a numerical failure. */
export const e2OutcomeSchema = z.union([e2FailedRunSchema, e2RunResultSchema]);
export type E2Outcome = z.infer<typeof e2OutcomeSchema>;
