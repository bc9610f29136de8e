/**
 * Slurm job arrays: `reproduce --executor slurm --emit DIR` writes `DIR/tasks.json` (every planned
 * run of the sweep, plain JSON) and `DIR/array.sbatch`, whose array task i runs
 * `gcvi-experiments run-task --tasks DIR/tasks.json --index $SLURM_ARRAY_TASK_ID` over the shared
 * results folder; `reproduce --analyse-only` then builds the figures, summary and report.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, FileFormatError, initBackend } from '@gcvi/runtime';
import { z } from 'zod';
import { executeRun, type RunOutcome, type RunTask } from '../core/runner.js';
import type { AnyExperiment } from '../core/types.js';
import { appRoot } from '../core/versions.js';
import { writeFileAtomic, writeJsonAtomic } from '../store/atomic.js';
import { DEFAULT_STALE_AFTER_MS } from '../store/claim.js';
import { ResultsStore } from '../store/store.js';
import type { Executor } from './types.js';

export const TASKS_FILE_VERSION = 1;

const taskSchema = z
  .object({
    experiment: z.string(),
    id: z.string(),
    config: z.unknown(),
    storeRoot: z.string(),
    label: z.string(),
    seed: z.union([z.number(), z.string()]).optional(),
    staleAfterMs: z.number().optional(),
    force: z.boolean().optional(),
    plugins: z.array(z.string()).optional(),
  })
  .strict();

const tasksFileSchema = z
  .object({
    version: z.literal(TASKS_FILE_VERSION),
    profile: z.string(),
    tasks: z.array(taskSchema),
  })
  .strict();
export type TasksFile = z.infer<typeof tasksFileSchema>;

export interface SlurmEmitOptions {
  /** The emit folder (`--emit`). */
  readonly dir: string;
  readonly profile: string;
  /** Every planned run (finished ones are skipped by `run-task` after a check). */
  readonly tasks: readonly RunTask[];
  /** The command that starts the CLI on the cluster (default: this node and this CLI's path). */
  readonly command?: string;
  /** Backend for the runs (`--backend`). */
  readonly backend?: string;
  /** Extra `#SBATCH` lines, e.g. `--time=12:00:00` (without the `#SBATCH ` prefix). */
  readonly sbatch?: readonly string[];
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Write `tasks.json` and `array.sbatch` into `dir`; returns their paths. */
export function emitSlurmArray(options: SlurmEmitOptions): { tasks: string; script: string; count: number } {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const tasksPath = join(dir, 'tasks.json');
  const file: TasksFile = {
    version: TASKS_FILE_VERSION,
    profile: options.profile,
    tasks: options.tasks.map((t) => ({ ...t, plugins: t.plugins ? [...t.plugins] : undefined })),
  };
  writeJsonAtomic(tasksPath, tasksFileSchema.parse(JSON.parse(JSON.stringify(file))));
  const n = options.tasks.length;
  const command = options.command ?? `${shellQuote(process.execPath)} ${shellQuote(cliPath())}`;
  const lines = [
    '#!/usr/bin/env bash',
    `# gcvi-experiments: ${n} run(s) of profile ${options.profile} as one Slurm job array.`,
    '# Every node must mount the results folder named in tasks.json (storeRoot) at the same path.',
    '# Submit with: sbatch array.sbatch; afterwards: gcvi-experiments reproduce --analyse-only (same --profile, --out).',
    `#SBATCH --job-name=gcvi-${options.profile}`,
    `#SBATCH --array=0-${Math.max(0, n - 1)}`,
    '#SBATCH --cpus-per-task=2',
    `#SBATCH --output=${join(dir, 'logs', '%A_%a.out')}`,
    ...(options.sbatch ?? []).map((l) => `#SBATCH ${l}`),
    'set -euo pipefail',
    `exec ${command} run-task --tasks ${shellQuote(tasksPath)} --index "$SLURM_ARRAY_TASK_ID"${options.backend ? ` --backend ${shellQuote(options.backend)}` : ''}`,
    '',
  ];
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const script = join(dir, 'array.sbatch');
  writeFileAtomic(script, lines.join('\n'));
  return { tasks: tasksPath, script, count: n };
}

/** The compiled CLI (`apps/experiments/dist/cli.js`). */
function cliPath(): string {
  return join(appRoot(), 'dist', 'cli.js');
}

/** Read and check a `tasks.json` (one error naming the file and field). */
export function readTasksFile(path: string): TasksFile {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError('--tasks', `'${path}' does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FileFormatError(file, `is not valid JSON (${(e as Error).message})`);
  }
  const r = tasksFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new FileFormatError(file, `${issue?.path.join('.') || 'value'}: ${issue?.message}`);
  }
  return r.data;
}

/** `--index` (else `SLURM_ARRAY_TASK_ID`) → a task index in `[0, n)`. */
export function taskIndex(
  value: string | undefined,
  env: Record<string, string | undefined>,
  n: number,
): number {
  const [v, field] =
    value !== undefined ? [value, '--index'] : [env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID'];
  if (v === undefined)
    throw new ConfigError('--index', 'needs a task index (or SLURM_ARRAY_TASK_ID set by Slurm)');
  const i = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(i) || i >= n) {
    throw new ConfigError(
      field,
      `must be an integer in [0, ${n - 1}] (tasks.json has ${n} task(s)), got '${v}'`,
    );
  }
  return i;
}

export interface RunTaskOptions {
  readonly tasksFile: string;
  readonly index?: string;
  readonly env: Record<string, string | undefined>;
  readonly experiments: readonly AnyExperiment[];
  /** Results root on this node (default: the `storeRoot` written in tasks.json). */
  readonly out?: string;
  readonly backend?: string;
  readonly pollMs?: number;
  readonly log?: (message: string) => void;
}

/**
 * `run-task`: execute task `index` of a tasks file in this process (claimed through the store like
 * any run; finished runs are skipped; a run another live process holds is waited for).
 */
export async function runTaskFromFile(options: RunTaskOptions): Promise<RunOutcome> {
  const file = readTasksFile(options.tasksFile);
  const i = taskIndex(options.index, options.env, file.tasks.length);
  const given = file.tasks[i] as RunTask;
  const task: RunTask = options.out
    ? { ...given, storeRoot: join(resolve(options.out), basename(given.storeRoot)) }
    : given;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  await initBackend({ backend: (options.backend ?? 'auto') as 'auto' });
  const store = new ResultsStore(task.storeRoot);
  const staleAfterMs = task.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  log(`task ${i}: ${task.label} (${task.id}) in ${task.storeRoot}`);
  for (;;) {
    const o = await executeRun(options.experiments, task, { log: (m) => log(`[${task.label}] ${m}`) });
    if (o.mode !== 'busy') return o;
    log(`${task.label} (${task.id}) is claimed by ${o.heldBy}; waiting for it`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
    if (
      store.status(task.experiment, task.id) === 'done' &&
      !store.claimOf(task.experiment, task.id, staleAfterMs)
    ) {
      return { ...o, ok: true, mode: 'skipped' };
    }
  }
}

/**
 * `reproduce --analyse-only`: executes nothing. Runs that are not finished on disk are reported
 * as failed ("not finished"), so the report says which are missing.
 */
export class AnalyseOnlyExecutor implements Executor {
  readonly name = 'analyse-only';
  async run(tasks: readonly RunTask[]): Promise<RunOutcome[]> {
    return tasks.map((task) => ({
      task,
      ok: false,
      mode: 'failed' as const,
      seconds: 0,
      error: `not finished in ${new ResultsStore(task.storeRoot).runDir(task.experiment, task.id)} (--analyse-only executes nothing)`,
    }));
  }
}
