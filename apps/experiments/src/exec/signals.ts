/**
 * SIGINT / SIGTERM: a supervisor's `kill -INT <pid>` reaches only the CLI, not its worker
 * processes (a terminal's Ctrl-C reaches the whole process group). The CLI's handler stops every
 * registered executor (which stops its workers and clears their claims), releases this process's
 * own claims, and exits with 128 + the signal number. Worker processes release their claims and exit.
 */
import { releaseAllClaims } from '../store/claim.js';

type Stopper = (signal: NodeJS.Signals) => Promise<void>;
const stoppers = new Set<Stopper>();

/** Register something to stop on SIGINT/SIGTERM; returns a function that unregisters it. */
export function onStop(stop: Stopper): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

const CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Install the handlers (idempotent); returns a function that removes them. `exit` is called with
 * 128 + the signal number after everything registered has stopped.
 */
export function installSignalHandlers(
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the workers and releasing run claims`);
    void Promise.allSettled([...stoppers].map((s) => s(signal)))
      .then(() => releaseAllClaims())
      .finally(() => exit(CODES[signal] ?? 1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
