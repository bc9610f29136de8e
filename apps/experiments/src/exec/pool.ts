import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunOutcome, RunTask } from '../core/runner.js';
import { removeClaimOf } from '../store/claim.js';
import { ResultsStore } from '../store/store.js';
import { onStop } from './signals.js';
import type { Executor, ExecutorEvents, FromWorker, ToWorker } from './types.js';

export interface LocalPoolOptions {
  /** Number of worker processes (≥ 1). */
  workers: number;
  /** Worker entry script (default: `dist/exec/worker.js` beside this module). */
  workerScript?: string;
  /** Backend request passed to workers as GCVI_BACKEND. */
  backend?: string;
  /** Extra environment for workers. */
  env?: Record<string, string>;
  /** On stop (SIGINT/SIGTERM), how long workers get to exit after SIGTERM before SIGKILL (ms, default 3000). */
  killAfterMs?: number;
}

/** The compiled worker entry: next to this file in dist, or dist/exec/worker.js when running from src. */
export function defaultWorkerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const candidates = [
    fileURLToPath(new URL('./worker.js', import.meta.url)),
    fileURLToPath(new URL('../../dist/exec/worker.js', import.meta.url)),
  ];
  for (const c of candidates) if (c !== here && existsSync(c)) return c;
  throw new Error(
    `no compiled worker found (looked for ${candidates.join(', ')}); run 'pnpm build' in apps/experiments or use --workers 0`,
  );
}

interface Slot {
  child: ChildProcess;
  task?: RunTask;
  exited: boolean;
  closing: boolean;
}

function close(slot: Slot): void {
  if (slot.closing || slot.exited || !slot.child.connected) return;
  slot.closing = true;
  slot.child.send({ type: 'exit' } satisfies ToWorker);
}

/** Stop one worker: SIGTERM, then SIGKILL after `killAfterMs`; then clear the claim it held. */
async function stopWorker(slot: Slot, killAfterMs: number): Promise<void> {
  const { child } = slot;
  const task = slot.task;
  if (!slot.exited && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    await exited;
    clearTimeout(timer);
  }
  // A worker busy in a synchronous training step may die by SIGKILL before its own handler runs:
  // its claim would then wait for --stale-after. It is ours to clear: we know the run and its pid.
  if (task && child.pid !== undefined) {
    removeClaimOf(new ResultsStore(task.storeRoot).claimPath(task.experiment, task.id), child.pid);
  }
}

/**
 * A pool of child processes on this machine (`child_process.fork`), each with its own tfjs backend.
 * Tasks go to idle workers largest-first in the order given. A worker that dies mid-run fails that
 * run only (reported with its id and seed); a fresh worker takes its place for the remaining tasks.
 * On SIGINT/SIGTERM to this process (see `installSignalHandlers`) every worker is stopped and the
 * claims of the runs they held are cleared.
 */
export class LocalPoolExecutor implements Executor {
  readonly name: string;
  private readonly script: string;

  constructor(private readonly options: LocalPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`workers: must be an integer ≥ 1, got ${options.workers}`);
    }
    this.script = options.workerScript ?? defaultWorkerScript();
    this.name = `local-pool(${options.workers})`;
  }

  run(tasks: readonly RunTask[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    const outcomes = new Map<string, RunOutcome>();
    const queue = [...tasks];
    const n = Math.min(this.options.workers, tasks.length);
    if (n === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const slots: Slot[] = [];
      let stopped = false;
      const unregister = onStop(async () => {
        stopped = true;
        queue.splice(0);
        await Promise.all(slots.map((s) => stopWorker(s, this.options.killAfterMs ?? 3000)));
      });
      const finish = (outcome: RunOutcome) => {
        outcomes.set(outcome.task.id, outcome);
        events.onFinish?.(outcome);
        if (outcomes.size === tasks.length) {
          unregister();
          for (const s of slots) close(s);
          resolve(tasks.map((t) => outcomes.get(t.id) as RunOutcome));
        }
      };
      const next = (slot: Slot) => {
        const task = queue.shift();
        slot.task = task;
        if (!task) {
          close(slot);
          return;
        }
        events.onStart?.(task);
        slot.child.send({ type: 'run', task } satisfies ToWorker);
      };
      const spawn = (): Slot => {
        const child = fork(this.script, [], {
          env: {
            ...process.env,
            ...(this.options.backend ? { GCVI_BACKEND: this.options.backend } : {}),
            ...this.options.env,
          },
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          serialization: 'advanced',
        });
        const slot: Slot = { child, exited: false, closing: false };
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => {
          stderr = (stderr + d.toString()).slice(-4000);
        });
        child.on('message', (msg: FromWorker) => {
          if (msg.type === 'ready') next(slot);
          else if (msg.type === 'progress' && slot.task) events.onProgress?.(slot.task, msg.progress);
          else if (msg.type === 'log' && slot.task) events.onLog?.(slot.task, msg.message);
          else if (msg.type === 'done') {
            if (stopped) return; // stopping: stopWorker clears the claim of slot.task
            slot.task = undefined;
            finish(msg.outcome);
            next(slot);
          }
        });
        child.on('exit', (code, signal) => {
          slot.exited = true;
          if (stopped) return; // stopping: stopWorker clears the claim of slot.task
          const task = slot.task;
          slot.task = undefined;
          if (task) {
            if (child.pid !== undefined) {
              removeClaimOf(new ResultsStore(task.storeRoot).claimPath(task.experiment, task.id), child.pid);
            }
            finish({
              task,
              ok: false,
              mode: 'failed',
              seconds: 0,
              error: `worker process ${child.pid} exited (${signal ?? `code ${code}`}) during the run${stderr ? `:\n${stderr.trim()}` : ''}`,
            });
            if (queue.length > 0) slots.push(spawn());
          } else if (queue.length > 0 && outcomes.size < tasks.length && !slots.some((s) => !s.exited)) {
            // every worker died before taking work (e.g. the backend failed to load): fail the rest.
            for (const t of queue.splice(0)) {
              finish({
                task: t,
                ok: false,
                mode: 'failed',
                seconds: 0,
                error: `no worker could start (last exit ${signal ?? `code ${code}`})${stderr ? `:\n${stderr.trim()}` : ''}`,
              });
            }
          }
        });
        return slot;
      };
      for (let i = 0; i < n; i++) slots.push(spawn());
    });
  }
}
