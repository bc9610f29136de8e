import { backendInfo } from '@gcvi/runtime';
import { ResultsStore, type RunMeta } from './store.js';
import type { AnyExperiment, RunProgress } from './types.js';
import { parseWithSchema } from './validate.js';

/** One run to execute: everything a worker (possibly another process or machine) needs. */
export interface RunTask {
  readonly experiment: string;
  readonly id: string;
  /** Validated config (plain JSON). */
  readonly config: unknown;
  /** `results/<profile>`: the store the run writes to. */
  readonly storeRoot: string;
  /** For progress bars and error messages. */
  readonly label: string;
  /** The config's seed, if it has one (reported when a run fails). */
  readonly seed?: number | string;
}

export interface RunOutcome {
  readonly task: RunTask;
  readonly ok: boolean;
  /** `skipped`: already finished on disk; `resumed`: continued from a checkpoint. */
  readonly mode: 'skipped' | 'fresh' | 'resumed' | 'failed';
  readonly error?: string;
  readonly seconds: number;
}

export interface RunHooks {
  progress?(p: RunProgress): void;
  log?(message: string): void;
}

/**
 * Execute one run in this process: validate the config again, skip it if finished, open its
 * directory (resuming if it has a checkpoint), call the experiment's `run`, write `summary.json`.
 * Errors are returned as a failed outcome, never thrown.
 */
export async function executeRun(
  experiments: readonly AnyExperiment[],
  task: RunTask,
  hooks: RunHooks = {},
): Promise<RunOutcome> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  try {
    const exp = experiments.find((e) => e.id === task.experiment);
    if (!exp) throw new Error(`unknown experiment '${task.experiment}'`);
    const config = parseWithSchema(exp.configSchema, task.config, `${exp.id}.config`);
    const store = new ResultsStore(task.storeRoot);
    const status = store.status(exp.id, task.id);
    if (status === 'done') return { task, ok: true, mode: 'skipped', seconds: seconds() };
    const handle = store.open(exp.id, task.id, config);
    const result = await exp.run(config, {
      id: task.id,
      store: handle,
      progress: (p) => hooks.progress?.(p),
      log: (m) => hooks.log?.(m),
    });
    const meta: RunMeta = {
      finishedAt: new Date().toISOString(),
      wallSeconds: seconds(),
      resumed: status === 'partial',
      backend: backendInfo()?.name ?? 'none',
      pid: process.pid,
    };
    handle.writeSummary({ experiment: exp.id, id: task.id, meta, result });
    return { task, ok: true, mode: status === 'partial' ? 'resumed' : 'fresh', seconds: seconds() };
  } catch (e) {
    const err = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { task, ok: false, mode: 'failed', error: err, seconds: seconds() };
  }
}
