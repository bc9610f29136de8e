import type { BackendRequest } from '@gcvi/runtime';
import type { z } from 'zod';
import type { LoadedRun, MetricRow, ResultsStore, RunHandle } from '../store/store.js';

export const PROFILES = ['quick', 'default', 'paper'] as const;
/** `quick`: CI smoke (tiny runs); `default`: every qualitative claim on a 2-core machine; `paper`: the paper's configs. */
export type ProfileName = (typeof PROFILES)[number];

/** Progress of a run, sent by the run (possibly from a worker process) to whoever draws the bars. */
export interface RunProgress {
  /** Steps done so far, over every phase of the run. */
  readonly step: number;
  /** Total steps of the run. */
  readonly total: number;
  /** Latest training loss (or another scalar worth watching). */
  readonly loss?: number;
  /** What the run is doing now (e.g. `full`, `linear`). */
  readonly phase?: string;
  /**
   * Set by the runner (not the run) when the run continues from a checkpoint, and by a
   * coordinator for a run it finds already under way: the steps of its first report were done
   * before, so progress rates and ETAs leave them out.
   */
  readonly resumed?: boolean;
}

/** What `run` gets besides its config. */
export interface RunContext {
  readonly id: string;
  /** The run's files: metrics, checkpoints. The runner writes `config.json` and `summary.json`. */
  readonly store: RunHandle;
  /** The whole results store (shared caches and their claims, e.g. the E3/E4 generator). */
  readonly results: ResultsStore;
  /** Claims whose heartbeat stopped this long ago are taken over (`--stale-after`). */
  readonly staleAfterMs: number;
  progress(p: RunProgress): void;
  log(message: string): void;
  /**
   * Record a duration (seconds, summed per name) in the run's `run-meta.json`. Durations never go
   * into the run's result: `summary.json` is a function of the config alone.
   */
  timing(name: string, seconds: number): void;
}

/**
 * What a plan gets instead of reading `process.env`: the profile, where results go and the
 * command line's choices that reach the configs.
 */
export interface PlanContext {
  /** The profile the plan is sized by (a custom profile file names its base profile). */
  readonly profile: ProfileName;
  /** The results folder name: the profile, or a custom profile file's `name`. */
  readonly profileName: string;
  /** `<out>/<profileName>`. */
  readonly outDir: string;
  /** E3/E4 generator: `trained` or the absolute path of a PyTorch checkpoint (`--generator`). */
  readonly generator: string;
  readonly backend: BackendRequest;
  /** `--objective NAME`: the objective an experiment that accepts one trains with (E1). */
  readonly objective?: string;
  /** Settings of this experiment from a custom profile file (validated by `settingsSchema`). */
  readonly settings?: Readonly<Record<string, unknown>>;
}

/** A claim of the paper checked against our numbers. */
export interface CheckedClaim {
  readonly id: string;
  /** What the paper says (or what DESIGN derives from it). */
  readonly paper: string;
  /** The check we apply, with its threshold. */
  readonly test: string;
  /** Our numbers, in words. */
  readonly measured: string;
  readonly values: Readonly<Record<string, number>>;
  /** `pass`, `fail`, or `n/a` when this profile's runs cannot check the claim (with the reason in `measured`). */
  readonly status: 'pass' | 'fail' | 'n/a';
  /** Figure(s) and/or table(s) the claim is about (their `name`s); the report lists the claim beside each. */
  readonly figures: readonly string[];
  /**
   * Why this profile's result says little about the claim, shown beside its status (never changes
   * it): e.g. a FAIL from runs shorter than the claim needs (`scaleNote` in experiments/scale-note.ts).
   */
  readonly note?: string;
}

/** A figure: a Vega-Lite spec with its data inline, plus the rows saved beside it. */
export interface FigureDef {
  /** File stem, e.g. `figure-1` → `figures/figure-1.{svg,png,csv}`. */
  readonly name: string;
  readonly title: string;
  /** What the paper's version of this figure shows (for the report). */
  readonly paperCaption: string;
  /** Vega-Lite spec; its data must be inline (`data.values`). */
  readonly spec: Record<string, unknown>;
  /** Data behind the figure (saved as CSV). */
  readonly rows: ReadonlyArray<Record<string, string | number | null>>;
}

/**
 * A table of the paper (e.g. Table 1): text cells for the report and `tables/<name>.md`, plus its
 * numbers as rows saved as `tables/<name>.csv`. The pipeline renders the Markdown and HTML from
 * `columns`/`cells`, so `report.md`, `report.html` and the `.md` file show the same table.
 */
export interface TableDef {
  /** File stem, e.g. `table-1` → `tables/table-1.{csv,md}`: letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  readonly title: string;
  /** What the paper's version of this table shows or claims (shown under the table). */
  readonly paperCaption: string;
  /** Column headers of the displayed table. */
  readonly columns: readonly string[];
  /** Alignment per column (default `left`); numbers read best `right`. */
  readonly align?: ReadonlyArray<'left' | 'right' | 'center'>;
  /** Displayed rows: one text cell per column. */
  readonly cells: ReadonlyArray<readonly string[]>;
  /** Notes under the table (how to read it, intervals used, …). */
  readonly notes?: readonly string[];
  /** The numbers behind the table (saved as CSV; non-finite numbers are left empty). */
  readonly rows: ReadonlyArray<Record<string, string | number | null>>;
}

/** Summary values are nested JSON objects of numbers/strings, e.g. `{ finalTestNll: { full: { "1024": 0.73 } } }`. */
export type SummaryTree = { readonly [key: string]: number | string | boolean | null | SummaryTree };

/**
 * One experiment: a folder `src/experiments/<id>/` exporting a definition of this type, listed in
 * `src/experiments/registry.ts`. `run` must be a pure function of its validated config (all
 * randomness from seeds in the config) so that the run id (hash of the config) names its result.
 */
export interface ExperimentDefinition<C = unknown, S = Record<string, unknown>> {
  /** Short id used on the command line and as the summary key (`e1`). */
  readonly id: string;
  readonly title: string;
  /** Where in the paper (`Section 5.1, Figure 1, Appendix …`). */
  readonly paperRef: string;
  /** The paper's claims this experiment checks, in words. */
  readonly paperClaims: readonly string[];
  /** Schema of one run's config; errors name the field. */
  readonly configSchema: z.ZodType<C>;
  /** Schema of one run's result (`summary.json`'s `result`): checked when it is written and when it is read back. */
  readonly resultSchema?: z.ZodType<S>;
  /** Schema of the settings a custom profile file may give this experiment (none: the experiment takes none). */
  readonly settingsSchema?: z.ZodType<Record<string, unknown>>;
  /** The runs of a profile (validated with `configSchema` by the pipeline). */
  plan(ctx: PlanContext): C[];
  /** Total steps a run reports through `ctx.progress` (sizes the progress bars; default `cost`, else 1). */
  progressSteps?(config: C): number;
  /** Relative cost of a run, for scheduling the most expensive first (default `progressSteps`, else 1). */
  cost?(config: C): number;
  /**
   * The shared cache a run builds or waits for, if any (E3/E4: their generator, trained by the
   * first run that needs it while the others wait on its lock). Runs with the same key are not
   * started side by side before the first of them has finished, while other work is left.
   */
  sharedCache?(config: C): string | undefined;
  /** Label of a run for progress bars and the report. */
  label(config: C): string;
  /** Do the work of one run; returns the run summary (saved as the run's `summary.json`). */
  run(config: C, ctx: RunContext): Promise<S>;
  /** Experiment-level numbers for `summary.json` under the experiment id. */
  summarize(runs: ReadonlyArray<LoadedRun<C, S>>, profile: ProfileName): SummaryTree;
  figures(runs: ReadonlyArray<LoadedRun<C, S>>, summary: SummaryTree, profile: ProfileName): FigureDef[];
  /** The paper's tables reproduced from the runs (optional): written to `tables/` and shown in the report. */
  tables?(runs: ReadonlyArray<LoadedRun<C, S>>, summary: SummaryTree, profile: ProfileName): TableDef[];
  claims(runs: ReadonlyArray<LoadedRun<C, S>>, summary: SummaryTree, profile: ProfileName): CheckedClaim[];
  /** How this profile departs from the paper's configuration (empty for `paper` unless something cannot be matched). */
  deviations(ctx: PlanContext): string[];
}

/** An experiment with its config type erased, as held by the registry. */
// biome-ignore lint/suspicious/noExplicitAny: config and summary types are erased in the registry.
export type AnyExperiment = ExperimentDefinition<any, any>;

export type { LoadedRun, MetricRow };
