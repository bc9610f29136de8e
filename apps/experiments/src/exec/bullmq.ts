/**
 * Runs on a BullMQ queue (Redis): a coordinator (`reproduce --executor bullmq`) enqueues every
 * unfinished run as one job and waits; workers (`gcvi-experiments worker`) on any number of
 * machines take jobs and execute them through the same run code and results store, which must
 * live on a file system every machine mounts. The store's run claims keep two workers off one run.
 *
 * - A job's id is `<experiment>-<run id>`: enqueueing a sweep twice adds nothing, so a restarted
 *   coordinator finds the same jobs and waits for what is left.
 * - A worker that dies mid-run stops renewing its job's lock; BullMQ's stalled-job check (run by
 *   the other workers) puts the job back in the queue, and the next worker resumes the run from
 *   its checkpoint (once the dead worker's run claim is stale).
 * - A run that fails is retried `attempts` times with exponential backoff, then reported (id, seed,
 *   error) while the other runs go on.
 * - Each job runs in a child process (the local pool's worker), so the worker's event loop stays
 *   free to renew job locks while a run's synchronous training steps keep its process busy.
 */
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { ConfigError } from '@gcvi/runtime';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import type { RunOutcome, RunTask } from '../core/runner.js';
import type { RunProgress } from '../core/types.js';
import { DEFAULT_STALE_AFTER_MS } from '../store/claim.js';
import { ResultsStore } from '../store/store.js';
import { LocalPoolExecutor } from './pool.js';
import { onStop } from './signals.js';
import type { Executor, ExecutorEvents } from './types.js';

/** The default queue name (`--queue`). */
export const DEFAULT_QUEUE = 'gcvi';

/** What a job carries: the run task (its `storeRoot` as the coordinator sees it). */
export interface RunJobData {
  readonly task: RunTask;
}

/** What a finished job returns. */
export interface RunJobResult {
  readonly mode: RunOutcome['mode'];
  readonly seconds: number;
  readonly host: string;
  readonly pid: number;
}

/** `redis://[user:password@]host:port[/db]` → BullMQ connection options (one error naming `--redis`). */
export function redisConnection(url: string, field = '--redis'): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(field, `must be a URL such as redis://localhost:6379, got '${url}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(field, `must start with redis:// or rediss://, got '${url}'`);
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigError(field, `database number '${u.pathname.slice(1)}' is not a non-negative integer`);
  }
  return {
    host: u.hostname || 'localhost',
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // wait for Redis across a restart instead of failing commands
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  };
}

/** `--queue`: letters, digits, `-`, `_` (BullMQ uses `:` in its keys). */
export function checkQueueName(name: string, field = '--queue'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
    throw new ConfigError(field, `must be letters, digits, '-' or '_', got '${name}'`);
  }
  return name;
}

/** The job id of a run: `<experiment>-<run id>` (never an integer, which BullMQ refuses as a custom id). */
export function jobIdOf(task: Pick<RunTask, 'experiment' | 'id'>): string {
  return `${task.experiment}-${task.id}`;
}

/** Log Redis connection errors once per distinct message (ioredis retries; an unhandled 'error' would crash). */
function errorLogger(log: (m: string) => void, who: string): (e: Error) => void {
  let last = '';
  return (e: Error) => {
    const m = e?.message ?? String(e);
    if (m === last) return;
    last = m;
    log(`${who}: redis: ${m} (retrying)`);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BullMQExecutorOptions {
  readonly redis: string;
  readonly queue?: string;
  /** Tries per run (1 = no retry; default 3). */
  readonly attempts?: number;
  /** First retry delay (ms, default 10 000), doubling each time. */
  readonly backoffMs?: number;
  /** How often to look at the jobs (ms, default 1000). */
  readonly pollMs?: number;
  readonly log?: (message: string) => void;
}

/**
 * The coordinator's executor: enqueue every task as a job (no-op for jobs already there), then
 * poll until each job is completed or has failed for good; one outcome per task. A job left
 * `completed` or `failed` by an earlier sweep whose run is not finished on disk is enqueued again.
 */
export class BullMQExecutor implements Executor {
  readonly name: string;
  /** Jobs that needed more than one try (stalled or failed and retried), by job id → tries. */
  readonly retried = new Map<string, number>();

  constructor(private readonly options: BullMQExecutorOptions) {
    redisConnection(options.redis);
    this.name = `bullmq(${options.queue ?? DEFAULT_QUEUE})`;
  }

  async run(tasks: readonly RunTask[], events: ExecutorEvents = {}): Promise<RunOutcome[]> {
    if (tasks.length === 0) return [];
    const log = this.options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    const queue = new Queue<RunJobData, RunJobResult>(checkQueueName(this.options.queue ?? DEFAULT_QUEUE), {
      connection: redisConnection(this.options.redis),
    });
    queue.on('error', errorLogger(log, 'coordinator'));
    const stopped = { yes: false };
    const unregister = onStop(async () => {
      stopped.yes = true;
      await queue.close().catch(() => {});
    });
    try {
      const attempts = this.options.attempts ?? 3;
      const opts = (t: RunTask) => ({
        jobId: jobIdOf(t),
        attempts,
        backoff: { type: 'exponential', delay: this.options.backoffMs ?? 10_000 },
        removeOnComplete: false,
        removeOnFail: false,
      });
      // Jobs a previous sweep left finished whose run is not done on disk (failed for good, or
      // its results were removed): take them out so that they are enqueued afresh.
      for (const t of tasks) {
        const job = await queue.getJob(jobIdOf(t));
        if (!job) continue;
        const state = await job.getState();
        if (state === 'failed' || state === 'completed') {
          const store = new ResultsStore(t.storeRoot);
          if (store.status(t.experiment, t.id) !== 'done') await job.remove();
        }
      }
      await queue.addBulk(tasks.map((t) => ({ name: t.experiment, data: { task: t }, opts: opts(t) })));
      log(
        `enqueued ${tasks.length} run(s) on queue '${queue.name}' at ${this.options.redis}; waiting for workers (gcvi-experiments worker --redis ${this.options.redis}${queue.name === DEFAULT_QUEUE ? '' : ` --queue ${queue.name}`} --out <results root>)`,
      );
      const t0 = performance.now();
      const outcomes = new Map<string, RunOutcome>();
      const started = new Set<string>();
      // runs already under way when this coordinator first looks (it was restarted): their first
      // progress report counts as found, not done here
      const seen = new Set<string>();
      let firstPass = true;
      while (outcomes.size < tasks.length && !stopped.yes) {
        for (const t of tasks) {
          if (outcomes.has(t.id)) continue;
          const job = await queue.getJob(jobIdOf(t));
          if (!job) {
            // the job vanished (Redis lost its data): enqueue it again
            log(`${t.label} (${t.id}): job missing from the queue; enqueueing it again`);
            await queue.add(t.experiment, { task: t }, opts(t));
            continue;
          }
          const state = await job.getState();
          if (state === 'active' && !started.has(t.id)) {
            started.add(t.id);
            events.onStart?.(t);
          }
          if (state === 'active' && typeof job.progress === 'object' && job.progress !== null) {
            const p = job.progress as unknown as RunProgress;
            events.onProgress?.(t, firstPass && !seen.has(t.id) ? { ...p, resumed: true } : p);
            seen.add(t.id);
          }
          const tries = job.attemptsStarted ?? job.attemptsMade;
          if (tries > 1) this.retried.set(job.id as string, tries);
          if (state === 'completed' || state === 'failed') {
            if (!started.has(t.id)) events.onStart?.(t);
            const r = job.returnvalue;
            const outcome: RunOutcome =
              state === 'completed'
                ? {
                    task: t,
                    ok: true,
                    mode: r?.mode ?? 'fresh',
                    seconds: r?.seconds ?? (performance.now() - t0) / 1000,
                  }
                : {
                    task: t,
                    ok: false,
                    mode: 'failed',
                    seconds: (performance.now() - t0) / 1000,
                    error: `failed after ${job.attemptsMade} tr${job.attemptsMade === 1 ? 'y' : 'ies'} on the queue: ${job.failedReason ?? 'unknown error'}${job.stacktrace?.length ? `\n${job.stacktrace[job.stacktrace.length - 1]}` : ''}`,
                  };
            outcomes.set(t.id, outcome);
            events.onFinish?.(outcome);
          }
        }
        firstPass = false;
        if (outcomes.size < tasks.length) await sleep(this.options.pollMs ?? 1000);
      }
      if (this.retried.size > 0) {
        log(
          `${this.retried.size} job(s) needed more than one try: ${[...this.retried].map(([id, n]) => `${id} (${n})`).join(', ')}`,
        );
      }
      return tasks.map(
        (t) =>
          outcomes.get(t.id) ?? {
            task: t,
            ok: false,
            mode: 'failed',
            seconds: 0,
            error: 'stopped before the run finished',
          },
      );
    } finally {
      unregister();
      await queue.close().catch(() => {});
    }
  }
}

export interface QueueWorkerOptions {
  readonly redis: string;
  readonly queue?: string;
  /** Results root on this machine (the shared folder); a job's run goes to `<out>/<profile>`. */
  readonly out: string;
  /** Runs at once on this machine (each in its own process; default 1). */
  readonly concurrency?: number;
  /** Backend for the runs (GCVI_BACKEND of the run processes). */
  readonly backend?: string;
  /** BullMQ job lock (ms, default 30 000): a job whose lock was not renewed this long is stalled. */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (ms, default 30 000). */
  readonly stalledIntervalMs?: number;
  /** Times a job may stall before it counts as failed (default 5). */
  readonly maxStalledCount?: number;
  /** How often to look at a run another process holds (ms, default 1000). */
  readonly pollMs?: number;
  readonly log?: (message: string) => void;
  /** Worker entry script for the run processes (tests). */
  readonly workerScript?: string;
}

/** A running queue worker; `close()` stops taking jobs and waits for the active ones (or `force`). */
export interface QueueWorkerHandle {
  close(force?: boolean): Promise<void>;
  /** Resolves when the worker has closed. */
  readonly closed: Promise<void>;
}

/**
 * Take jobs from the queue and execute them (each in a child process, through `executeRun`).
 * A run another live process holds (`busy`) is waited for: finished by its holder, or taken over
 * once its claim is free or stale. A failed run throws, so BullMQ retries it (attempts, backoff).
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError('--concurrency', `must be an integer ≥ 1, got ${concurrency}`);
  }
  const name = checkQueueName(options.queue ?? DEFAULT_QUEUE);
  const me = `${hostname()} pid ${process.pid}`;
  const processor = async (job: Job<RunJobData, RunJobResult>): Promise<RunJobResult> => {
    const given = job.data.task;
    // the shared folder may be mounted elsewhere on this machine: `<out>/<profile>`
    const task: RunTask = { ...given, storeRoot: join(options.out, basename(given.storeRoot)) };
    const store = new ResultsStore(task.storeRoot);
    const staleAfterMs = task.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    log(`${me}: job ${job.id} (${task.label}), try ${job.attemptsStarted ?? job.attemptsMade + 1}`);
    let lastProgress = 0;
    let saidBusy = false;
    for (;;) {
      const pool = new LocalPoolExecutor({
        workers: 1,
        ...(options.backend ? { backend: options.backend } : {}),
        ...(options.workerScript ? { workerScript: options.workerScript } : {}),
      });
      const [o] = await pool.run([task], {
        onProgress: (_t, p) => {
          const now = Date.now();
          if (now - lastProgress < 1000 && p.step < p.total) return;
          lastProgress = now;
          void job.updateProgress({ ...p }).catch(() => {});
        },
        onLog: (_t, m) => log(`[${task.label}] ${m}`),
      });
      if (!o) throw new Error(`job ${job.id}: no outcome`);
      if (o.mode === 'busy') {
        if (!saidBusy) log(`${me}: ${task.label} (${task.id}) is claimed by ${o.heldBy}; waiting for it`);
        saidBusy = true;
        await sleep(options.pollMs ?? 1000);
        const claim = store.claimOf(task.experiment, task.id, staleAfterMs);
        if (store.status(task.experiment, task.id) === 'done' && !claim) {
          return { mode: 'skipped', seconds: o.seconds, host: hostname(), pid: process.pid };
        }
        continue;
      }
      if (!o.ok) {
        log(`${me}: ${task.label} (${task.id}) FAILED: ${(o.error ?? '').split('\n')[0]}`);
        throw new Error(o.error ?? 'run failed');
      }
      log(`${me}: ${task.label} (${task.id}) ${o.mode} in ${o.seconds.toFixed(1)} s`);
      return { mode: o.mode, seconds: o.seconds, host: hostname(), pid: process.pid };
    }
  };
  const worker = new Worker<RunJobData, RunJobResult>(name, processor, {
    connection: redisConnection(options.redis),
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 5,
    autorun: true,
  });
  worker.on('error', errorLogger(log, me));
  worker.on('stalled', (id) =>
    log(`${me}: job ${id} stalled (its worker stopped renewing the lock); back in the queue`),
  );
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  worker.on('closed', () => resolveClosed());
  await worker.waitUntilReady();
  log(
    `${me}: worker on queue '${name}' at ${options.redis}, results under ${options.out}, concurrency ${concurrency}`,
  );
  return {
    close: async (force = false) => {
      await worker.close(force);
      resolveClosed();
    },
    closed,
  };
}

/** Job counts of one experiment on the queue. */
export interface QueueCounts {
  waiting: number;
  active: number;
  done: number;
  failed: number;
}

/** `status`: waiting (incl. delayed retries) / active / done / failed per experiment (job name). */
export async function queueStatus(
  redis: string,
  queueName = DEFAULT_QUEUE,
): Promise<Map<string, QueueCounts>> {
  const queue = new Queue(checkQueueName(queueName), { connection: redisConnection(redis) });
  queue.on('error', () => {});
  try {
    const by = new Map<string, QueueCounts>();
    const groups: Array<[keyof QueueCounts, Parameters<Queue['getJobs']>[0]]> = [
      ['waiting', ['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children']],
      ['active', ['active']],
      ['done', ['completed']],
      ['failed', ['failed']],
    ];
    for (const [key, types] of groups) {
      for (const job of await queue.getJobs(types, 0, -1)) {
        if (!job) continue;
        const c = by.get(job.name) ?? { waiting: 0, active: 0, done: 0, failed: 0 };
        c[key] += 1;
        by.set(job.name, c);
      }
    }
    return new Map([...by].sort(([a], [b]) => a.localeCompare(b)));
  } finally {
    await queue.close();
  }
}

/** The `status` table. */
export function formatQueueStatus(counts: ReadonlyMap<string, QueueCounts>): string {
  const rows = [['experiment', 'waiting', 'active', 'done', 'failed']];
  const total: QueueCounts = { waiting: 0, active: 0, done: 0, failed: 0 };
  for (const [exp, c] of counts) {
    rows.push([exp, String(c.waiting), String(c.active), String(c.done), String(c.failed)]);
    for (const k of Object.keys(total) as (keyof QueueCounts)[]) total[k] += c[k];
  }
  rows.push(['total', String(total.waiting), String(total.active), String(total.done), String(total.failed)]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n')}\n`;
}
