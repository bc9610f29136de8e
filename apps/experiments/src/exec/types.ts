import type { RunOutcome, RunTask } from '../core/runner.js';
import type { RunProgress } from '../core/types.js';

export interface ExecutorEvents {
  onStart?(task: RunTask): void;
  onProgress?(task: RunTask, progress: RunProgress): void;
  onLog?(task: RunTask, message: string): void;
  onFinish?(outcome: RunOutcome): void;
}

/**
 * Where runs execute. An executor takes independent run tasks and returns one outcome per task
 * (in task order); a failed run is an outcome with `ok: false`, never a rejected promise, so one
 * failure does not lose the others. Implementations: `InlineExecutor` (this process),
 * `LocalPoolExecutor` (child processes on this machine). A distributed executor (a BullMQ queue, a
 * Slurm job array) fits the same interface: tasks are plain JSON, addressed by id, and write to a
 * results store that every machine can reach.
 */
export interface Executor {
  readonly name: string;
  run(tasks: readonly RunTask[], events?: ExecutorEvents): Promise<RunOutcome[]>;
}

/** Messages from the parent to a worker process. */
export type ToWorker = { type: 'run'; task: RunTask } | { type: 'exit' };

/** Messages from a worker process to the parent. */
export type FromWorker =
  | { type: 'ready'; pid: number; backend: string }
  | { type: 'progress'; id: string; progress: RunProgress }
  | { type: 'log'; id: string; message: string }
  | { type: 'done'; outcome: RunOutcome }
  | { type: 'fatal'; error: string };
