import { type BackendRequest, initBackend } from '@gcvi/runtime';
import { executeRun, type RunOutcome, type RunTask } from '../core/runner.js';
import type { AnyExperiment } from '../core/types.js';
import type { Executor, ExecutorEvents } from './types.js';

/** Runs tasks one after another in this process (`--workers 0`; also what tests use). */
export class InlineExecutor implements Executor {
  readonly name = 'inline';
  constructor(
    private readonly experiments: readonly AnyExperiment[],
    private readonly backend: BackendRequest = 'auto',
  ) {}

  async run(tasks: readonly RunTask[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    await initBackend({ backend: this.backend });
    const out: RunOutcome[] = [];
    for (const task of tasks) {
      events.onStart?.(task);
      const outcome = await executeRun(this.experiments, task, {
        progress: (p) => events.onProgress?.(task, p),
        log: (m) => events.onLog?.(task, m),
      });
      events.onFinish?.(outcome);
      out.push(outcome);
    }
    return out;
  }
}
