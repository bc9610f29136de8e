import { hostname } from 'node:os';
import { backendInfo } from '@gcvi/runtime';
import { Claim, DEFAULT_STALE_AFTER_MS, describeClaim } from '../store/claim.js';
import { ResultsStore, type RunMeta } from '../store/store.js';
import { loadPlugins } from './plugins.js';
import type { AnyExperiment, RunProgress } from './types.js';
import { parseWithSchema } from './validate.js';

/** One run to execute: everything a worker (possibly another process or machine) needs. Plain JSON. */
export interface RunTask {
  readonly experiment: string;
  readonly id: string;
  /** Validated config (plain JSON). */
  readonly config: unknown;
  /** `results/<profile>`: the store the run writes to (on a file system every worker mounts). */
  readonly storeRoot: string;
  /** For progress bars and error messages. */
  readonly label: string;
  /** The config's seed, if it has one (reported when a run fails). */
  readonly seed?: number | string;
  /** A claim whose heartbeat stopped this long ago is taken over (default 30 s). */
  readonly staleAfterMs?: number;
  /** Delete what is on disk for this run (finished or not) and run it again. */
  readonly force?: boolean;
  /** Objective plugin packages to load before the run (by package name). */
  readonly plugins?: readonly string[];
}

export interface RunOutcome {
  readonly task: RunTask;
  readonly ok: boolean;
  /**
   * `skipped`: already finished on disk; `fresh`/`resumed`: executed here (from scratch / from a
   * checkpoint); `busy`: another live process holds the run's claim (nothing was done here);
   * `failed`: see `error`.
   */
  readonly mode: 'skipped' | 'fresh' | 'resumed' | 'busy' | 'failed';
  readonly error?: string;
  /** For `busy`: who holds the claim. */
  readonly heldBy?: string;
  readonly seconds: number;
}

export interface RunHooks {
  progress?(p: RunProgress): void;
  log?(message: string): void;
}

/**
 * Execute one run in this process: validate the config again, claim the run (or report `busy` if
 * another live process holds it), skip it if finished, open its directory (a resume continues from
 * the run's checkpoint), call the experiment's `run`, write `summary.json` and `run-meta.json`, and
 * release the claim. Errors are returned as a failed outcome, never thrown.
 */
export async function executeRun(
  experiments: readonly AnyExperiment[],
  task: RunTask,
  hooks: RunHooks = {},
): Promise<RunOutcome> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const log = (m: string) => hooks.log?.(m);
  let claim: Claim | undefined;
  try {
    const exp = experiments.find((e) => e.id === task.experiment);
    if (!exp) throw new Error(`unknown experiment '${task.experiment}'`);
    const config = parseWithSchema(exp.configSchema, task.config, `${exp.id}.config`);
    await loadPlugins(task.plugins);
    const store = new ResultsStore(task.storeRoot);
    const staleAfterMs = task.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const got = await store.claimRun(exp.id, task.id, { staleAfterMs, log });
    if (!(got instanceof Claim)) {
      return { task, ok: false, mode: 'busy', heldBy: describeClaim(got), seconds: seconds() };
    }
    claim = got;
    if (task.force) store.remove(exp.id, task.id);
    const status = store.status(exp.id, task.id);
    if (status === 'done') return { task, ok: true, mode: 'skipped', seconds: seconds() };
    const handle = store.open(exp.id, task.id, config, claim, log);
    const timings: Record<string, number> = {};
    const result = await exp.run(config, {
      id: task.id,
      store: handle,
      results: store,
      staleAfterMs,
      progress: (p) => hooks.progress?.(status === 'partial' ? { ...p, resumed: true } : p),
      log,
      timing: (name, s) => {
        timings[name] = (timings[name] ?? 0) + s;
      },
    });
    const checked = exp.resultSchema ? parseWithSchema(exp.resultSchema, result, `${exp.id}.result`) : result;
    const meta: RunMeta = {
      finishedAt: new Date().toISOString(),
      wallSeconds: seconds(),
      resumed: status === 'partial',
      backend: backendInfo()?.name ?? 'none',
      host: hostname(),
      pid: process.pid,
      timings,
    };
    handle.writeMeta(meta);
    handle.writeSummary(checked);
    return { task, ok: true, mode: status === 'partial' ? 'resumed' : 'fresh', seconds: seconds() };
  } catch (e) {
    const err = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { task, ok: false, mode: 'failed', error: err, seconds: seconds() };
  } finally {
    await claim?.release();
  }
}
