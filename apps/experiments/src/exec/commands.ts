/**
 * The CLI's scale-out parts, kept out of `cli.ts`: `reproduce --executor bullmq|slurm`,
 * `reproduce --analyse-only`, and the `worker`, `status` and `run-task` commands.
 */
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '@gcvi/runtime';
import { type Command, Option } from 'commander';
import { defaultOutDir } from '../core/paths.js';
import type { AnyExperiment, PlanContext } from '../core/types.js';
import { planContext, planRuns, resolveProfile, selectExperiments } from '../pipeline/plan.js';
import { DEFAULT_STALE_AFTER_MS } from '../store/claim.js';
import { ResultsStore } from '../store/store.js';
import { BullMQExecutor, DEFAULT_QUEUE, formatQueueStatus, queueStatus, startQueueWorker } from './bullmq.js';
import { calibrateStepCosts, stepCostsModule } from './cost.js';
import { installSignalHandlers, onStop } from './signals.js';
import { AnalyseOnlyExecutor, emitSlurmArray, runTaskFromFile } from './slurm.js';
import type { Executor } from './types.js';

export interface ScaleOutOpts {
  executor?: 'local' | 'bullmq' | 'slurm';
  redis?: string;
  queue?: string;
  attempts?: number;
  backoff?: number;
  emit?: string;
  analyseOnly?: boolean;
  // shared with the run options
  profile?: string;
  out?: string;
  backend?: string;
  staleAfter?: number;
  plugin?: string[];
  objective?: string;
}

/** `--stalled-interval 30s` etc.: a duration in ms (`ms`, `s`, `m`, `h`; plain numbers are ms). */
export function parseMs(field: string, min = 1): (v: string) => number {
  return (v: string) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
    const ms = m ? Number(m[1]) * unit[(m[2] ?? 'ms') as keyof typeof unit] : Number.NaN;
    if (!Number.isFinite(ms) || ms < min) {
      throw new ConfigError(
        field,
        `must be a duration of at least ${min} ms such as 30s, 2m or 1500ms, got '${v}'`,
      );
    }
    return Math.round(ms);
  };
}

function positiveInt(field: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new ConfigError(field, `must be an integer ≥ 1, got '${v}'`);
    }
    return n;
  };
}

/** Options of `reproduce` for the distributed executors. */
export function addScaleOutOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--executor <name>',
        'where runs execute: local (this machine, --workers), bullmq (a Redis queue), slurm (emit a job array)',
      )
        .choices(['local', 'bullmq', 'slurm'])
        .default('local'),
    )
    .option('--redis <url>', 'with --executor bullmq: the Redis server, e.g. redis://host:6379')
    .option('--queue <name>', `with --executor bullmq: the queue name (default ${DEFAULT_QUEUE})`)
    .addOption(
      new Option('--attempts <n>', 'with --executor bullmq: tries per run before it is reported failed')
        .argParser(positiveInt('--attempts'))
        .default(3),
    )
    .addOption(
      new Option(
        '--backoff <duration>',
        'with --executor bullmq: delay before the first retry, doubling after',
      )
        .argParser(parseMs('--backoff', 0))
        .default(10_000, '10s'),
    )
    .option('--emit <dir>', 'with --executor slurm: write tasks.json and array.sbatch into this folder')
    .option('--analyse-only', 'execute nothing: analyse the finished runs and write the report', false);
}

export interface ScaleOutContext {
  readonly only: string[] | undefined;
  readonly env: Record<string, string | undefined>;
  readonly experiments: readonly AnyExperiment[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** The checked `--generator` value. */
  readonly generator: string;
}

function resultsRoot(out: string | undefined): string {
  return resolve(out ?? defaultOutDir());
}

function profileValue(o: ScaleOutOpts, env: Record<string, string | undefined>): string {
  return o.profile ?? env.GCVI_PROFILE ?? 'default';
}

/**
 * The executor the scale-out options ask for (undefined: the local default), or `'emitted'` when
 * `--executor slurm --emit` has written its files (nothing more to do).
 */
export async function scaleOutExecutor(
  o: ScaleOutOpts,
  ctx: ScaleOutContext,
): Promise<Executor | 'emitted' | undefined> {
  if (o.analyseOnly) {
    if (o.executor && o.executor !== 'local') {
      throw new ConfigError('--analyse-only', `executes nothing; drop --executor ${o.executor}`);
    }
    return new AnalyseOnlyExecutor();
  }
  if (o.executor === 'bullmq') {
    if (!o.redis)
      throw new ConfigError('--redis', 'is needed with --executor bullmq, e.g. redis://localhost:6379');
    return new BullMQExecutor({
      redis: o.redis,
      ...(o.queue ? { queue: o.queue } : {}),
      attempts: o.attempts ?? 3,
      backoffMs: o.backoff ?? 10_000,
      log: (m) => ctx.stdout.write(`${m}\n`),
    });
  }
  if (o.executor === 'slurm') {
    if (!o.emit)
      throw new ConfigError(
        '--emit',
        'is needed with --executor slurm (the folder for tasks.json and array.sbatch)',
      );
    const profile = resolveProfile(profileValue(o, ctx.env));
    const dir = join(resultsRoot(o.out), profile.name);
    const store = new ResultsStore(dir);
    const selected = selectExperiments(ctx.experiments, ctx.only);
    const contexts = new Map<AnyExperiment, PlanContext>();
    for (const exp of selected) {
      contexts.set(
        exp,
        planContext(exp, profile, {
          outDir: dir,
          generator: ctx.generator,
          backend: (o.backend ?? 'auto') as PlanContext['backend'],
          ...(o.objective !== undefined ? { objective: o.objective } : {}),
        }),
      );
    }
    const planned = planRuns(selected, contexts, store, {
      staleAfterMs: o.staleAfter ?? DEFAULT_STALE_AFTER_MS,
      ...(o.plugin ? { plugins: o.plugin } : {}),
    });
    const r = emitSlurmArray({
      dir: o.emit,
      profile: profile.name,
      tasks: planned.map((p) => p.task),
      ...(o.backend && o.backend !== 'auto' ? { backend: o.backend } : {}),
    });
    ctx.stdout.write(
      `wrote ${r.tasks} (${r.count} run(s), results in ${dir}) and ${r.script}\n` +
        `submit: sbatch ${r.script}\nafterwards: gcvi-experiments reproduce --analyse-only --profile ${profileValue(o, ctx.env)} --out ${resultsRoot(o.out)}${ctx.only ? ` --only ${ctx.only.join(',')}` : ''}\n`,
    );
    return 'emitted';
  }
  if (o.redis || o.emit) {
    throw new ConfigError(o.redis ? '--redis' : '--emit', `needs --executor ${o.redis ? 'bullmq' : 'slurm'}`);
  }
  return undefined;
}

export interface ScaleOutIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Record<string, string | undefined>;
  readonly experiments: readonly AnyExperiment[];
  setCode(code: number): void;
}

/** `worker`, `status`, `run-task`. */
export function addScaleOutCommands(program: Command, io: ScaleOutIo): void {
  program
    .command('worker')
    .description(
      'take runs from a BullMQ queue and execute them into the shared results folder (until stopped)',
    )
    .requiredOption('--redis <url>', 'the Redis server, e.g. redis://host:6379')
    .option('--queue <name>', `queue name (default ${DEFAULT_QUEUE})`)
    .requiredOption('--out <dir>', 'the shared results root on this machine (the coordinator’s --out)')
    .addOption(
      new Option('--concurrency <n>', 'runs at once on this machine')
        .argParser(positiveInt('--concurrency'))
        .default(1),
    )
    .addOption(new Option('--backend <name>', 'tfjs backend for the runs').default('auto'))
    .addOption(
      new Option(
        '--lock-duration <duration>',
        'a job whose worker stopped renewing its lock this long ago is stalled',
      )
        .argParser(parseMs('--lock-duration', 1000))
        .default(30_000, '30s'),
    )
    .addOption(
      new Option('--stalled-interval <duration>', 'how often to look for stalled jobs')
        .argParser(parseMs('--stalled-interval', 500))
        .default(30_000, '30s'),
    )
    .addOption(
      new Option('--max-stalled <n>', 'times a job may stall before it counts as failed')
        .argParser(positiveInt('--max-stalled'))
        .default(5),
    )
    .action(
      async (o: {
        redis: string;
        queue?: string;
        out: string;
        concurrency: number;
        backend: string;
        lockDuration: number;
        stalledInterval: number;
        maxStalled: number;
      }) => {
        const log = (m: string) => io.stdout.write(`${m}\n`);
        const handle = await startQueueWorker({
          redis: o.redis,
          ...(o.queue ? { queue: o.queue } : {}),
          out: resolve(o.out),
          concurrency: o.concurrency,
          ...(o.backend !== 'auto' ? { backend: o.backend } : {}),
          lockDurationMs: o.lockDuration,
          stalledIntervalMs: o.stalledInterval,
          maxStalledCount: o.maxStalled,
          log,
        });
        const uninstall = installSignalHandlers(log);
        const unregister = onStop(() => handle.close(true));
        await handle.closed;
        unregister();
        uninstall();
      },
    );

  program
    .command('calibrate')
    .description(
      'measure seconds per cost unit of each experiment from a finished results folder; prints src/exec/step-costs.ts',
    )
    .requiredOption('--results <dir>', 'a profile results folder, e.g. results/quick')
    .requiredOption('--machine <text>', 'what the machine is (cores, CPU)')
    .option('--backend <name>', 'backend the runs used', 'wasm')
    .action((o: { results: string; machine: string; backend: string }) => {
      const table = calibrateStepCosts(resolve(o.results), io.experiments, {
        measuredAt: new Date().toISOString().slice(0, 10),
        machine: o.machine,
        backend: o.backend,
        source: `run-meta.json wall times of ${basename(resolve(o.results))} profile runs (calibrate)`,
      });
      io.stdout.write(stepCostsModule(table));
    });

  program
    .command('status')
    .description('waiting / active / done / failed runs per experiment on a BullMQ queue')
    .requiredOption('--redis <url>', 'the Redis server, e.g. redis://host:6379')
    .option('--queue <name>', `queue name (default ${DEFAULT_QUEUE})`)
    .action(async (o: { redis: string; queue?: string }) => {
      io.stdout.write(formatQueueStatus(await queueStatus(o.redis, o.queue ?? DEFAULT_QUEUE)));
    });

  program
    .command('run-task')
    .description(
      'execute one task of a tasks.json written by reproduce --executor slurm (a Slurm array task)',
    )
    .requiredOption('--tasks <file>', 'the tasks.json')
    .option('--index <i>', 'the task index (default: $SLURM_ARRAY_TASK_ID)')
    .option('--out <dir>', 'results root on this node if it is mounted elsewhere than where tasks.json says')
    .addOption(new Option('--backend <name>', 'tfjs backend').default('auto'))
    .action(async (o: { tasks: string; index?: string; out?: string; backend: string }) => {
      const uninstall = installSignalHandlers((m) => io.stderr.write(`${m}\n`));
      try {
        const r = await runTaskFromFile({
          tasksFile: o.tasks,
          ...(o.index !== undefined ? { index: o.index } : {}),
          env: io.env,
          experiments: io.experiments,
          ...(o.out ? { out: o.out } : {}),
          backend: o.backend,
          log: (m) => io.stdout.write(`${m}\n`),
        });
        if (r.ok) io.stdout.write(`${r.task.label} (${r.task.id}): ${r.mode} in ${r.seconds.toFixed(1)} s\n`);
        else {
          io.stderr.write(
            `run FAILED: ${r.task.label} id ${r.task.id}${r.task.seed !== undefined ? ` seed ${r.task.seed}` : ''}\n  ${(
              r.error ?? ''
            )
              .split('\n')
              .filter((l) => !/^\s+at\s/.test(l))
              .slice(0, 6)
              .join('\n  ')}\n`,
          );
          io.setCode(1);
        }
      } finally {
        uninstall();
      }
    });
}
