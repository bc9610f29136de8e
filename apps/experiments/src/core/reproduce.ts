import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import {
  type BackendInfo,
  type BackendRequest,
  ConfigError,
  describeBackend,
  initBackend,
} from '@gcvi/runtime';
import { InlineExecutor } from '../exec/inline.js';
import { LocalPoolExecutor } from '../exec/pool.js';
import { type ProgressMode, ProgressReporter } from '../exec/progress.js';
import type { Executor } from '../exec/types.js';
import { type WrittenFigure, writeFigure } from '../figures/render.js';
import { writeReport } from '../report/report.js';
import { writeJsonAtomic } from './atomic.js';
import { runId } from './hash.js';
import type { RunOutcome, RunTask } from './runner.js';
import { type LoadedRun, ResultsStore, type RunStatus } from './store.js';
import { type WrittenTable, writeTable } from './tables.js';
import type { AnyExperiment, CheckedClaim, FigureDef, ProfileName, SummaryTree, TableDef } from './types.js';
import { parseWithSchema } from './validate.js';
import { packageVersions } from './versions.js';

export interface PlannedRun {
  readonly experiment: AnyExperiment;
  readonly task: RunTask;
  readonly status: RunStatus;
  readonly cost: number;
  readonly steps: number;
}

/** Validate an experiment's plan for a profile and give each run its id and on-disk status. */
export function planRuns(
  experiments: readonly AnyExperiment[],
  profile: ProfileName,
  store: ResultsStore,
): PlannedRun[] {
  const out: PlannedRun[] = [];
  for (const exp of experiments) {
    const seen = new Set<string>();
    exp.plan(profile).forEach((raw, i) => {
      const config = parseWithSchema(exp.configSchema, raw, `${exp.id}.plan[${i}]`);
      const id = runId(exp.id, config);
      if (seen.has(id)) return;
      seen.add(id);
      const seed = (config as { seed?: unknown }).seed;
      out.push({
        experiment: exp,
        task: {
          experiment: exp.id,
          id,
          config,
          storeRoot: store.root,
          label: `${exp.id} ${exp.label(config)}`,
          ...(typeof seed === 'number' || typeof seed === 'string' ? { seed } : {}),
        },
        status: store.status(exp.id, id),
        cost: exp.cost?.(config) ?? exp.progressSteps?.(config) ?? 1,
        steps: exp.progressSteps?.(config) ?? exp.cost?.(config) ?? 1,
      });
    });
  }
  return out;
}

export interface ReproduceOptions {
  readonly profile: ProfileName;
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
  /** Override the executor (tests, distributed back ends). */
  readonly executor?: Executor;
  readonly progress?: ProgressMode;
  readonly stdout?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface ExperimentResult {
  readonly id: string;
  readonly title: string;
  readonly complete: boolean;
  readonly runs: number;
  readonly summary: SummaryTree;
  readonly figures: ReadonlyArray<{ def: FigureDef; files: WrittenFigure }>;
  /** The experiment's tables, written to `tables/<name>.{csv,md}`. */
  readonly tables: ReadonlyArray<{ def: TableDef; files: WrittenTable }>;
  readonly claims: readonly CheckedClaim[];
  readonly deviations: readonly string[];
}

export interface ReproduceResult {
  readonly dir: string;
  readonly summaryFile: string;
  readonly summary: Record<string, unknown>;
  readonly outcomes: readonly RunOutcome[];
  readonly failed: readonly RunOutcome[];
  /** Experiments whose summarize/figures/tables/claims threw (their runs are intact; fix and rerun). */
  readonly analysisErrors: readonly string[];
  readonly experiments: readonly ExperimentResult[];
}

/** Pick experiments by id (`--only e1,e2`); unknown ids are an error naming the option. */
export function selectExperiments(
  all: readonly AnyExperiment[],
  only: readonly string[] | undefined,
): AnyExperiment[] {
  if (!only || only.length === 0) return [...all];
  const out: AnyExperiment[] = [];
  for (const id of only) {
    const e = all.find((x) => x.id === id);
    if (!e)
      throw new ConfigError(
        '--only',
        `unknown experiment '${id}'; known: ${all.map((x) => x.id).join(', ')}`,
      );
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

function defaultExecutor(opts: ReproduceOptions, pending: number): Executor {
  const workers = opts.workers ?? Math.max(1, availableParallelism());
  if (workers === 0 || pending === 0) return new InlineExecutor(opts.experiments, opts.backend ?? 'auto');
  return new LocalPoolExecutor({ workers: Math.min(workers, pending), backend: opts.backend ?? 'auto' });
}

/**
 * The whole pipeline for one profile: plan → execute the unfinished runs (skipping finished ones,
 * resuming interrupted ones) → summarize → figures → tables → claims → `summary.json`, `report.md`,
 * `report.html` in `<out>/<profile>/`.
 */
export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const out = opts.stdout ?? process.stdout;
  const selected = selectExperiments(opts.experiments, opts.only);
  const dir = join(opts.out, opts.profile);
  const store = new ResultsStore(dir);
  const backend: BackendInfo = await initBackend({ backend: opts.backend ?? 'auto' });
  const say = (s: string) => {
    if (opts.progress !== 'none') out.write(`${s}\n`);
  };
  say(`gcvi-experiments: profile ${opts.profile}, ${describeBackend(backend)}, output ${dir}`);

  let planned = planRuns(selected, opts.profile, store);
  if (opts.force) {
    for (const p of planned) store.remove(p.experiment.id, p.task.id);
    planned = planRuns(selected, opts.profile, store);
  }
  const todo = planned.filter((p) => p.status !== 'done').sort((a, b) => b.cost - a.cost);
  const skipped = planned.length - todo.length;
  say(
    `${planned.length} run(s): ${skipped} finished (skipped), ${todo.filter((p) => p.status === 'partial').length} to resume, ` +
      `${todo.filter((p) => p.status === 'new').length} new`,
  );
  const executor = opts.executor ?? defaultExecutor({ ...opts, experiments: selected }, todo.length);
  const totalSteps = todo.reduce((s, p) => s + p.steps, 0);
  const progress = new ProgressReporter(totalSteps, opts.progress ?? 'auto', out);
  let outcomes: RunOutcome[];
  try {
    outcomes = await executor.run(
      todo.map((p) => p.task),
      progress.events(),
    );
  } finally {
    progress.stop();
  }
  const failed = outcomes.filter((o) => !o.ok);
  for (const f of failed) {
    say(
      `run FAILED: ${f.task.label} id ${f.task.id}${f.task.seed !== undefined ? ` seed ${f.task.seed}` : ''}\n  ${(f.error ?? '').split('\n').slice(0, 6).join('\n  ')}`,
    );
  }

  const results: ExperimentResult[] = [];
  const analysisErrors: string[] = [];
  for (const exp of selected) {
    const mine = planned.filter((p) => p.experiment === exp);
    const done = mine.filter((p) => store.status(exp.id, p.task.id) === 'done');
    const complete = done.length === mine.length;
    const deviations = exp.deviations(opts.profile);
    if (!complete) {
      results.push({
        id: exp.id,
        title: exp.title,
        complete,
        runs: mine.length,
        summary: { incomplete: `${mine.length - done.length} of ${mine.length} runs failed` },
        figures: [],
        tables: [],
        claims: [],
        deviations,
      });
      continue;
    }
    try {
      const runs: LoadedRun[] = done.map((p) => store.load(exp.id, p.task.id));
      const summary = exp.summarize(runs, opts.profile);
      const figs = exp.figures(runs, summary, opts.profile);
      const figures: { def: FigureDef; files: WrittenFigure }[] = [];
      for (const def of figs) figures.push({ def, files: await writeFigure(join(dir, 'figures'), def) });
      const tables: { def: TableDef; files: WrittenTable }[] = [];
      for (const def of exp.tables?.(runs, summary, opts.profile) ?? [])
        tables.push({ def, files: writeTable(join(dir, 'tables'), def) });
      const claims = exp.claims(runs, summary, opts.profile);
      results.push({
        id: exp.id,
        title: exp.title,
        complete,
        runs: mine.length,
        summary,
        figures,
        tables,
        claims,
        deviations,
      });
    } catch (e) {
      // One experiment's analysis (summary, figures, tables, claims) failing must not cost the others their report; its runs stay on disk.
      const message = e instanceof Error ? e.message : String(e);
      analysisErrors.push(`${exp.id}: ${message}`);
      say(`analysis of ${exp.id} FAILED: ${message}`);
      results.push({
        id: exp.id,
        title: exp.title,
        complete: false,
        runs: mine.length,
        summary: { incomplete: `analysis failed: ${message}` },
        figures: [],
        tables: [],
        claims: [],
        deviations,
      });
    }
  }

  const wallSeconds = (performance.now() - t0) / 1000;
  const summary: Record<string, unknown> = {
    profile: opts.profile,
    backend: { name: backend.name, requested: backend.requested, description: describeBackend(backend) },
    versions: packageVersions(),
    startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds,
    executor: executor.name,
    runs: {
      planned: planned.length,
      skipped,
      executed: outcomes.length - failed.length,
      failed: failed.map((f) => ({
        experiment: f.task.experiment,
        id: f.task.id,
        seed: f.task.seed ?? null,
      })),
    },
    analysisErrors,
  };
  for (const r of results) {
    summary[r.id] = r.summary;
  }
  summary.claims = Object.fromEntries(
    results.map((r) => [r.id, r.claims.map((c) => ({ id: c.id, status: c.status, values: c.values }))]),
  );
  const summaryFile = join(dir, 'summary.json');
  writeJsonAtomic(summaryFile, summary);
  writeReport(dir, {
    profile: opts.profile,
    summary,
    experiments: results,
    runs: planned.map((p) => ({
      experiment: p.experiment.id,
      id: p.task.id,
      label: p.task.label,
      seed: p.task.seed,
      outcome: outcomes.find((o) => o.task.id === p.task.id)?.mode ?? 'skipped',
      dir: relative(dir, store.runDir(p.experiment.id, p.task.id)),
    })),
  });
  say(`wrote ${summaryFile}, report.md, report.html (${wallSeconds.toFixed(1)} s)`);
  return { dir, summaryFile, summary, outcomes, failed, analysisErrors, experiments: results };
}
