/**
 * The whole pipeline for one profile: plan → execute → analyse → report, each stage in its own
 * file of this folder, data types in `types.ts`.
 */
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { type BackendInfo, describeBackend, initBackend } from '@gcvi/runtime';
import { checkObjectiveName, loadPlugins } from '../core/plugins.js';
import type { RunOutcome } from '../core/runner.js';
import type { AnyExperiment, PlanContext } from '../core/types.js';
import { packageVersions } from '../core/versions.js';
import { estimatedSeconds, orderForWorkers } from '../exec/cost.js';
import { InlineExecutor } from '../exec/inline.js';
import { LocalPoolExecutor } from '../exec/pool.js';
import { ProgressReporter } from '../exec/progress.js';
import type { Executor } from '../exec/types.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { DEFAULT_STALE_AFTER_MS } from '../store/claim.js';
import { ResultsStore } from '../store/store.js';
import { analyseExperiment } from './analyse.js';
import { executeAll } from './execute.js';
import {
  checkFinishedRuns,
  checkProfileSettings,
  planContext,
  planRuns,
  resolveProfile,
  selectExperiments,
} from './plan.js';
import { writeReport } from './report.js';
import {
  type ExperimentResult,
  type Invocation,
  invocationSchema,
  type ProfileSummary,
  profileSummarySchema,
  type ReproduceOptions,
  type ReproduceResult,
} from './types.js';

function defaultExecutor(
  opts: ReproduceOptions,
  experiments: readonly AnyExperiment[],
  pending: number,
): Executor {
  const workers = opts.workers ?? Math.max(1, availableParallelism());
  if (workers === 0 || pending === 0) return new InlineExecutor(experiments, opts.backend ?? 'auto');
  return new LocalPoolExecutor({ workers: Math.min(workers, pending), backend: opts.backend ?? 'auto' });
}

/**
 * plan → execute the unfinished runs (skipping finished ones after checking them, resuming
 * interrupted ones, waiting for runs other processes hold) → analyse → `summary.json`,
 * `invocation.json`, `report.md`, `report.html` in `<out>/<profile>/`.
 */
export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const out = opts.stdout ?? process.stdout;
  const say = (s: string) => {
    if (opts.progress !== 'none') out.write(`${s}\n`);
  };
  const profile = resolveProfile(opts.profile);
  checkProfileSettings(profile, opts.experiments);
  const selected = selectExperiments(opts.experiments, opts.only);
  const dir = join(opts.out, profile.name);
  const store = new ResultsStore(dir);
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  await loadPlugins(opts.plugins);
  if (opts.objective !== undefined) checkObjectiveName(opts.objective, '--objective');
  const backend: BackendInfo = await initBackend({ backend: opts.backend ?? 'auto' });
  say(`gcvi-experiments: profile ${profile.name}, ${describeBackend(backend)}, output ${dir}`);

  const contexts = new Map<AnyExperiment, PlanContext>();
  for (const exp of selected) {
    contexts.set(
      exp,
      planContext(exp, profile, {
        outDir: dir,
        generator: opts.generator ?? 'trained',
        backend: opts.backend ?? 'auto',
        ...(opts.objective !== undefined ? { objective: opts.objective } : {}),
      }),
    );
  }
  const planned = planRuns(selected, contexts, store, { staleAfterMs, plugins: opts.plugins });
  if (!opts.force) checkFinishedRuns(planned, store);
  // longest first (estimated seconds: cost units × the measured seconds per unit of each
  // experiment), runs that wait for a shared cache another run builds kept apart
  const todo = orderForWorkers(
    planned.filter((p) => opts.force || p.status !== 'done'),
    opts.workers ?? Math.max(1, availableParallelism()),
  );
  const skipped = planned.length - todo.length;
  say(
    `${planned.length} run(s): ${skipped} finished (skipped), ${todo.filter((p) => p.status === 'partial').length} to resume, ` +
      `${todo.filter((p) => p.status === 'new').length} new${opts.force ? `, ${todo.filter((p) => p.status === 'done').length} to redo (--force)` : ''}`,
  );
  const executor = opts.executor ?? defaultExecutor(opts, selected, todo.length);
  const progress = new ProgressReporter(
    todo.reduce((s, p) => s + p.steps, 0),
    opts.progress ?? 'auto',
    out,
    undefined,
    new Map(todo.map((p) => [p.task.id, estimatedSeconds(p)])),
  );
  let outcomes: RunOutcome[];
  try {
    outcomes = await executeAll(
      executor,
      todo.map((p) => (opts.force ? { ...p.task, force: true } : p.task)),
      { store, events: progress.events(), pollMs: opts.pollMs, staleAfterMs, log: (m) => progress.log(m) },
    );
  } finally {
    progress.stop();
  }
  const failed = outcomes.filter((o) => !o.ok);
  for (const f of failed) {
    // The message only (a stack trace helps nobody but a developer: --verbose shows it).
    const lines = (f.error ?? '').split('\n').filter((l) => opts.verbose || !/^\s+at\s/.test(l));
    out.write(
      `run FAILED: ${f.task.label} id ${f.task.id}${f.task.seed !== undefined ? ` seed ${f.task.seed}` : ''}\n  ${lines.slice(0, opts.verbose ? 40 : 6).join('\n  ')}\n`,
    );
  }

  const results: ExperimentResult[] = [];
  const analysisErrors: string[] = [];
  for (const exp of selected) {
    const { result, error } = await analyseExperiment(
      exp,
      planned,
      store,
      contexts.get(exp) as PlanContext,
      dir,
    );
    results.push(result);
    if (error) {
      analysisErrors.push(error);
      say(`analysis of ${error} FAILED`);
    }
  }

  const summary: ProfileSummary = profileSummarySchema.parse({
    profile: profile.name,
    baseProfile: profile.base,
    backend: { name: backend.name, requested: backend.requested, description: describeBackend(backend) },
    versions: packageVersions(),
    runs: {
      planned: planned.length,
      failed: failed.map((f) => ({
        experiment: f.task.experiment,
        id: f.task.id,
        seed: f.task.seed ?? null,
      })),
    },
    analysisErrors,
    ...Object.fromEntries(results.map((r) => [r.id, r.summary])),
    claims: Object.fromEntries(
      results.map((r) => [r.id, r.claims.map((c) => ({ id: c.id, status: c.status, values: c.values }))]),
    ),
  });
  const summaryFile = join(dir, 'summary.json');
  writeJsonAtomic(summaryFile, summary);
  const byId = new Map(outcomes.map((o) => [o.task.id, o]));
  const invocation: Invocation = invocationSchema.parse({
    startedAt,
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
    executor: executor.name,
    counts: {
      planned: planned.length,
      skipped,
      executed: outcomes.filter((o) => o.ok && (o.mode === 'fresh' || o.mode === 'resumed')).length,
      byOthers: outcomes.filter((o) => o.mode === 'skipped' && o.heldBy !== undefined).length,
      failed: failed.length,
    },
    runs: planned.map((p) => {
      const meta = store.status(p.experiment.id, p.task.id) === 'done' ? readMeta(store, p) : undefined;
      const o = byId.get(p.task.id);
      return {
        experiment: p.experiment.id,
        id: p.task.id,
        label: p.task.label,
        seed: p.task.seed ?? null,
        outcome: o ? (o.mode === 'skipped' && o.heldBy ? 'by another process' : o.mode) : 'skipped',
        dir: relative(dir, store.runDir(p.experiment.id, p.task.id)),
        wallSeconds: meta?.wallSeconds ?? null,
        host: meta?.host ?? null,
        timings: meta?.timings ?? {},
      };
    }),
  });
  writeJsonAtomic(join(dir, 'invocation.json'), invocation);
  writeReport(dir, { profile: profile.name, summary, invocation, experiments: results });
  say(
    `wrote ${summaryFile}, invocation.json, report.md, report.html (${invocation.wallSeconds.toFixed(1)} s)`,
  );
  return { dir, summaryFile, summary, invocation, outcomes, failed, analysisErrors, experiments: results };
}

/** `claims: 5 PASS, 2 FAIL, 1 n/a; runs: 12 planned, 0 failed`. */
export function claimSummaryLine(
  results: readonly ExperimentResult[],
  failedRuns: number,
  plannedRuns: number,
): string {
  const all = results.flatMap((r) => r.claims);
  const n = (s: string) => all.filter((c) => c.status === s).length;
  const na = n('n/a');
  return (
    `claims: ${n('pass')} PASS, ${n('fail')} FAIL${na > 0 ? `, ${na} n/a` : ''}; ` +
    `runs: ${plannedRuns} planned, ${failedRuns} failed`
  );
}

function readMeta(store: ResultsStore, p: { experiment: AnyExperiment; task: { id: string } }) {
  try {
    return store.load(p.experiment.id, p.task.id).meta;
  } catch {
    return undefined;
  }
}
