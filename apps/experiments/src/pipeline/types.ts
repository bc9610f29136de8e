/**
 * The pipeline's data: plan → execute → analyse → report. Every stage imports from here, never
 * from another stage's orchestration, so the import graph has no cycles.
 */

import type { WrittenFigure } from '@gcvi/plots';
import type { BackendRequest } from '@gcvi/runtime';
import { z } from 'zod';
import type { RunOutcome, RunTask } from '../core/runner.js';
import type { WrittenTable } from '../core/tables.js';
import type {
  AnyExperiment,
  CheckedClaim,
  FigureDef,
  PlanContext,
  ProfileName,
  SummaryTree,
  TableDef,
} from '../core/types.js';
import type { ProgressMode } from '../exec/progress.js';
import type { Executor } from '../exec/types.js';
import type { RunStatus } from '../store/store.js';

export interface PlannedRun {
  readonly experiment: AnyExperiment;
  readonly task: RunTask;
  readonly status: RunStatus;
  readonly cost: number;
  readonly steps: number;
  /** `sharedCache(config)` of its experiment. */
  readonly cacheKey?: string;
}

export interface ExperimentResult {
  readonly id: string;
  readonly title: string;
  readonly complete: boolean;
  readonly runs: number;
  /** Why the experiment has no summary (some runs failed, or its analysis threw). */
  readonly incomplete?: string;
  readonly summary: SummaryTree;
  readonly figures: ReadonlyArray<{ def: FigureDef; files: WrittenFigure }>;
  /** The experiment's tables, written to `tables/<name>.{csv,md}`. */
  readonly tables: ReadonlyArray<{ def: TableDef; files: WrittenTable }>;
  readonly claims: readonly CheckedClaim[];
  readonly deviations: readonly string[];
}

const summaryValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.number(),
    z.string(),
    z.boolean(),
    z.null(),
    z.array(summaryValue),
    z.record(z.string(), summaryValue),
  ]),
);

/**
 * `<out>/<profile>/summary.json` (each experiment's summary under its id, beside these keys): a function of the runs' configs and results only, identical
 * across reruns, interruptions and executors (times, hosts and counts of this invocation go to
 * `invocation.json`).
 */
export const profileSummarySchema = z
  .object({
    profile: z.string(),
    baseProfile: z.enum(['quick', 'default', 'paper']),
    backend: z.object({ name: z.string(), requested: z.string(), description: z.string() }).strict(),
    versions: z.record(z.string(), z.string()),
    runs: z
      .object({
        planned: z.number().int().nonnegative(),
        failed: z.array(
          z
            .object({
              experiment: z.string(),
              id: z.string(),
              seed: z.union([z.number(), z.string(), z.null()]),
            })
            .strict(),
        ),
      })
      .strict(),
    analysisErrors: z.array(z.string()),
    claims: z.record(
      z.string(),
      z.array(
        z
          .object({
            id: z.string(),
            status: z.enum(['pass', 'fail', 'n/a']),
            values: z.record(z.string(), z.number()),
          })
          .strict(),
      ),
    ),
  })
  // each experiment's own summary under its id: `summary.e1.finalTestNll.full['1024']`
  .catchall(summaryValue);
export type ProfileSummary = z.infer<typeof profileSummarySchema>;

/** `<out>/<profile>/invocation.json`: what this invocation did, and when. */
export const invocationSchema = z
  .object({
    startedAt: z.string(),
    finishedAt: z.string(),
    wallSeconds: z.number(),
    executor: z.string(),
    counts: z
      .object({
        planned: z.number().int(),
        skipped: z.number().int(),
        executed: z.number().int(),
        byOthers: z.number().int(),
        failed: z.number().int(),
      })
      .strict(),
    runs: z.array(
      z
        .object({
          experiment: z.string(),
          id: z.string(),
          label: z.string(),
          seed: z.union([z.number(), z.string(), z.null()]),
          outcome: z.string(),
          dir: z.string(),
          wallSeconds: z.number().nullable(),
          host: z.string().nullable(),
          timings: z.record(z.string(), z.number()),
        })
        .strict(),
    ),
  })
  .strict();
export type Invocation = z.infer<typeof invocationSchema>;

export interface ReproduceOptions {
  /** A profile name, or the path of a custom profile file (JSON: `{ name, base, <experiment>: settings }`). */
  readonly profile: string;
  /** Experiments to run (ids); default all in `experiments`. */
  readonly only?: readonly string[];
  readonly backend?: BackendRequest;
  /** Worker processes; 0 runs everything in this process. Default: the number of cores. */
  readonly workers?: number;
  /** Output root; results go to `<out>/<profile>/`. */
  readonly out: string;
  /** Delete and redo the planned runs even if they finished. */
  readonly force?: boolean;
  readonly experiments: readonly AnyExperiment[];
  /** E3/E4 generator: `trained` (default) or a checkpoint path. */
  readonly generator?: string;
  /** `--objective`: the objective of experiments that take one (E1). */
  readonly objective?: string;
  /** Objective plugin packages (loaded here and by every worker before its runs). */
  readonly plugins?: readonly string[];
  /** Claims whose heartbeat stopped this long ago are taken over (default 30 s). */
  readonly staleAfterMs?: number;
  /** How often to look at runs another process is working on (default 1 s). */
  readonly pollMs?: number;
  /** Override the executor (tests, distributed back ends). */
  readonly executor?: Executor;
  readonly progress?: ProgressMode;
  readonly stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Print failed runs' stack frames (default false: their message only). */
  readonly verbose?: boolean;
}

export interface ReproduceResult {
  readonly dir: string;
  readonly summaryFile: string;
  readonly summary: ProfileSummary;
  readonly invocation: Invocation;
  readonly outcomes: readonly RunOutcome[];
  readonly failed: readonly RunOutcome[];
  /** Experiments whose summarize/figures/tables/claims threw (their runs are intact; fix and rerun). */
  readonly analysisErrors: readonly string[];
  readonly experiments: readonly ExperimentResult[];
}

export type { PlanContext, ProfileName };
