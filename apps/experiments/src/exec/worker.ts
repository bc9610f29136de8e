/**
 * Worker process entry (forked by LocalPoolExecutor). Initialises its own tfjs backend (from
 * GCVI_BACKEND), says `ready`, then runs the tasks it is sent one at a time.
 */
import { describeBackend, initBackend } from '@gcvi/runtime';
import { executeRun } from '../core/runner.js';
import { EXPERIMENTS } from '../experiments/registry.js';
import { releaseAllClaims } from '../store/claim.js';
import type { FromWorker, ToWorker } from './types.js';

function send(msg: FromWorker): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('worker.js must be started by the pool (child_process.fork)');
  // Stopped by the pool (SIGTERM), by a terminal's Ctrl-C to the process group (SIGINT), or
  // orphaned (the parent died: the IPC channel closes): release the claims and stop. A claim being
  // taken at that moment (its lock directory may exist already) is waited for and removed too.
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    void releaseAllClaims().finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => stop(143));
  process.on('SIGINT', () => stop(130));
  process.on('disconnect', () => stop(1));
  let info: Awaited<ReturnType<typeof initBackend>>;
  try {
    info = await initBackend();
  } catch (e) {
    send({ type: 'fatal', error: e instanceof Error ? e.message : String(e) });
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
  process.on('message', async (msg: ToWorker) => {
    if (msg.type === 'exit') {
      process.disconnect();
      process.exit(0);
    }
    const task = msg.task;
    let last = 0;
    const outcome = await executeRun(EXPERIMENTS, task, {
      progress: (progress) => {
        const now = Date.now();
        if (now - last < 200 && progress.step < progress.total) return;
        last = now;
        send({ type: 'progress', id: task.id, progress });
      },
      log: (message) => send({ type: 'log', id: task.id, message }),
    });
    send({ type: 'done', outcome });
  });
  send({ type: 'ready', pid: process.pid, backend: describeBackend(info) });
}

void main();
