/**
 * Execute: hand the unfinished runs to an executor; runs another process holds (`busy`) are
 * waited for — done by their claimant, or handed to the executor again once their claim is free
 * or stale — so every planned run ends finished or failed, each executed once.
 */
import type { RunOutcome, RunTask } from '../core/runner.js';
import type { Executor, ExecutorEvents } from '../exec/types.js';
import { DEFAULT_STALE_AFTER_MS } from '../store/claim.js';
import type { ResultsStore } from '../store/store.js';

export interface ExecuteOptions {
  readonly store: ResultsStore;
  readonly events?: ExecutorEvents;
  /** How often to look at runs another process works on (ms, default 1000). */
  readonly pollMs?: number;
  readonly staleAfterMs?: number;
  readonly log?: (message: string) => void;
}

/** One outcome per task; `busy` never appears in the result (those runs are waited for). */
export async function executeAll(
  executor: Executor,
  tasks: readonly RunTask[],
  options: ExecuteOptions,
): Promise<RunOutcome[]> {
  const { store } = options;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const final = new Map<string, RunOutcome>();
  let pending: RunTask[] = [...tasks];
  const waiting = new Map<string, { task: RunTask; since: number; heldBy?: string }>();
  const t0 = performance.now();
  for (;;) {
    if (pending.length > 0) {
      const outcomes = await executor.run(pending, options.events);
      for (const o of outcomes) {
        if (o.mode === 'busy') {
          if (!waiting.has(o.task.id)) {
            options.log?.(`${o.task.label} (${o.task.id}) is claimed by ${o.heldBy}; waiting for it`);
          }
          waiting.set(o.task.id, { task: o.task, since: performance.now(), heldBy: o.heldBy });
        } else final.set(o.task.id, o);
      }
      pending = [];
    }
    if (waiting.size === 0) break;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    for (const [id, w] of [...waiting]) {
      const status = store.status(w.task.experiment, id);
      const claim = store.claimOf(w.task.experiment, id, staleAfterMs);
      if (status === 'done' && !claim) {
        waiting.delete(id);
        final.set(id, {
          task: w.task,
          ok: true,
          mode: 'skipped',
          seconds: (performance.now() - t0) / 1000,
          heldBy: w.heldBy,
        });
      } else if (!claim || claim.stale) {
        // Released without finishing (its process stopped or failed), or its heartbeat stopped:
        // ours to run (a stale claim is taken over, with a log line).
        waiting.delete(id);
        pending.push({ ...w.task, force: false });
      }
    }
  }
  return tasks.map((t) => final.get(t.id) as RunOutcome);
}
