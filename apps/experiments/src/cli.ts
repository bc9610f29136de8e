#!/usr/bin/env node
/**
 * gcvi-experiments: reproduce the paper's figures and tables.
 *
 *     gcvi-experiments reproduce [--profile quick|default|paper|<file.json>] [--only e1,e2] [--backend auto|wasm|cpu|tensorflow]
 *                                [--workers N] [--out DIR] [--force] [--progress auto|bars|lines|none]
 *                                [--generator trained|<checkpoint path>] [--stale-after 30s]
 *                                [--plugin <package>]... [--objective <name>]
 *     gcvi-experiments run <experiment> [same options except --only]
 *     gcvi-experiments list [--profile P] [--out DIR]
 *
 * The profile defaults to GCVI_PROFILE, else `default`.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKENDS, type BackendRequest, ConfigError, GcviError } from '@gcvi/runtime';
import { Command, CommanderError, Option } from 'commander';
import type { AnyExperiment, PlanContext } from './core/types.js';
import { appRoot } from './core/versions.js';
import {
  addScaleOutCommands,
  addScaleOutOptions,
  type ScaleOutOpts,
  scaleOutExecutor,
} from './exec/commands.js';
import { estimateCost, formatCost } from './exec/cost.js';
import type { ProgressMode } from './exec/progress.js';
import { installSignalHandlers } from './exec/signals.js';
import type { Executor } from './exec/types.js';
import { generatorSource } from './experiments/e3/generator.js';
import { EXPERIMENTS } from './experiments/registry.js';
import {
  planContext,
  planRuns,
  resolveProfile as resolveProfileValue,
  selectExperiments,
} from './pipeline/plan.js';
import { reproduce } from './pipeline/reproduce.js';
import type { PlannedRun } from './pipeline/types.js';
import { MIN_STALE_AFTER_MS } from './store/claim.js';
import { ResultsStore } from './store/store.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Experiments to offer (default: the registry). */
  experiments?: readonly AnyExperiment[];
  /** Executor override (tests). */
  executor?: Executor;
  /** Install SIGINT/SIGTERM handlers while reproducing (default true; tests in-process may turn it off). */
  signals?: boolean;
}

/** Default output root: `apps/experiments/results`. */
export function defaultOutDir(): string {
  return join(appRoot(), 'results');
}

/** The `--profile` value (else GCVI_PROFILE, else `default`), checked: a profile name or a profile file. */
export function resolveProfile(option: string | undefined, env: Record<string, string | undefined>): string {
  const [value, field] =
    option !== undefined
      ? [option, '--profile']
      : env.GCVI_PROFILE
        ? [env.GCVI_PROFILE, 'GCVI_PROFILE']
        : ['default', 'profile'];
  resolveProfileValue(value, field);
  return value;
}

/** `--stale-after 30s` (also `500ms`, `2m`, or plain milliseconds) → milliseconds (≥ 2 s). */
export function parseDuration(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? 'ms') as keyof typeof unit] : Number.NaN;
  if (!Number.isFinite(ms) || ms < MIN_STALE_AFTER_MS) {
    throw new ConfigError(
      '--stale-after',
      `must be a duration of at least ${MIN_STALE_AFTER_MS / 1000} s such as 30s, 2m or 1500ms, got '${v}'`,
    );
  }
  return ms;
}

function collect(v: string, previous: string[] = []): string[] {
  if (v.trim() === '') throw new ConfigError('--plugin', 'needs a package name, e.g. @gcvi/objective-renyi');
  return [...previous, v.trim()];
}

function parseWorkers(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
    throw new ConfigError(
      '--workers',
      `must be a non-negative integer (0 = run in this process), got '${v}'`,
    );
  }
  return n;
}

function parseOnly(v: string): string[] {
  const ids = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.length === 0)
    throw new ConfigError('--only', 'needs a comma-separated list of experiment ids, e.g. e1,e2');
  return ids;
}

interface CommonOpts {
  profile?: string;
  backend: BackendRequest;
  workers?: number;
  out?: string;
  force?: boolean;
  progress: ProgressMode;
  generator?: string;
  staleAfter?: number;
  plugin?: string[];
  objective?: string;
}

/** `--generator trained|<checkpoint path>`, checked; it reaches the E3/E4 plans through the plan context. */
function checkGenerator(value: string | undefined): string {
  const v = value?.trim();
  if (v !== undefined && v !== 'trained' && (!existsSync(v) || !statSync(v).isFile())) {
    throw new ConfigError('--generator', `'${value}' is neither 'trained' nor an existing checkpoint file`);
  }
  return generatorSource(v);
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--profile <name>',
        'quick | default | paper, or a profile file (.json) (default: $GCVI_PROFILE or default)',
      ),
    )
    .addOption(
      new Option('--backend <name>', 'tfjs backend for the runs')
        .choices(['auto', ...BACKENDS])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--workers <n>',
        'worker processes (0 = in this process; default: number of cores)',
      ).argParser(parseWorkers),
    )
    .option('--out <dir>', 'results root (default: apps/experiments/results)')
    .option('--force', 'redo finished runs instead of skipping them', false)
    .addOption(
      new Option('--progress <mode>', 'progress display')
        .choices(['auto', 'bars', 'lines', 'none'])
        .default('auto'),
    )
    .option(
      '--generator <source>',
      "E3/E4 generator: 'trained' (our VAE, trained once and cached) or a PyTorch checkpoint path (default: trained)",
    )
    .addOption(
      new Option(
        '--stale-after <duration>',
        'a run claim whose heartbeat stopped this long ago is taken over (e.g. 30s, 2m)',
      )
        .argParser(parseDuration)
        .default(30_000, '30s'),
    )
    .addOption(
      new Option('--plugin <package>', 'objective plugin package to load (repeatable)').argParser(collect),
    )
    .option('--objective <name>', 'objective for experiments that take one (E1; default forward-kl)');
}

/** Run the CLI; returns the exit code (0 ok, 1 some runs failed, 2 usage or config error). */
export async function main(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const stdout = io?.stdout ?? process.stdout;
  const stderr = io?.stderr ?? process.stderr;
  const env = io?.env ?? process.env;
  const experiments = io?.experiments ?? EXPERIMENTS;
  let code = 0;
  const program = new Command('gcvi-experiments')
    .description(
      'Reproduce "Globally Convergent Variational Inference" (McNamara, Loper, Regier; NeurIPS 2024)',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });

  const go = async (only: string[] | undefined, o: CommonOpts & ScaleOutOpts) => {
    // With worker processes the CLI's own thread is free to handle SIGINT/SIGTERM: it stops the
    // workers and clears their claims. With --workers 0 the training loop keeps this thread busy,
    // so the default (immediate exit) stays; the heartbeat dies with the process and the claim is
    // taken over after --stale-after.
    const uninstall =
      io?.signals === false || o.workers === 0
        ? () => {}
        : installSignalHandlers((m) => stderr.write(`${m}\n`));
    try {
      const scaled = await scaleOutExecutor(o, {
        only,
        env,
        experiments,
        stdout,
        stderr,
        generator: checkGenerator(o.generator),
      });
      if (scaled === 'emitted') return;
      const res = await reproduce({
        profile: resolveProfile(o.profile, env),
        only,
        backend: o.backend,
        workers: o.workers,
        out: resolve(o.out ?? defaultOutDir()),
        force: o.force,
        experiments,
        generator: checkGenerator(o.generator),
        staleAfterMs: o.staleAfter,
        plugins: o.plugin,
        objective: o.objective,
        executor: io?.executor ?? scaled,
        progress: o.progress,
        stdout,
      });
      code = res.failed.length > 0 || res.analysisErrors.length > 0 ? 1 : 0;
    } finally {
      uninstall();
    }
  };

  addScaleOutOptions(
    addRunOptions(
      program
        .command('reproduce')
        .description(
          'run every (or --only some) experiment of a profile, then write figures, summary.json and the report',
        ),
    ).addOption(
      new Option('--only <ids>', 'comma-separated experiment ids, e.g. e1,e2').argParser(parseOnly),
    ),
  ).action(async (o: CommonOpts & ScaleOutOpts & { only?: string[] }) => go(o.only, o));
  addScaleOutCommands(program, {
    stdout,
    stderr,
    env,
    experiments,
    setCode: (c) => {
      code = c;
    },
  });

  addRunOptions(
    program
      .command('run')
      .description('run one experiment (its planned runs, figures and report)')
      .argument('<experiment>'),
  ).action(async (id: string, o: CommonOpts) => {
    selectExperiments(experiments, [id]);
    await go([id], o);
  });

  program
    .command('list')
    .description('list the experiments and the runs a profile plans, with their status on disk')
    .addOption(new Option('--profile <name>', 'quick | default | paper, or a profile file (.json)'))
    .option('--out <dir>', 'results root (default: apps/experiments/results)')
    .option('--generator <source>', "E3/E4 generator: 'trained' or a PyTorch checkpoint path")
    .option('--objective <name>', 'objective for experiments that take one (E1)')
    .action((o: { profile?: string; out?: string; generator?: string; objective?: string }) => {
      const profile = resolveProfileValue(resolveProfile(o.profile, env));
      const dir = join(resolve(o.out ?? defaultOutDir()), profile.name);
      const store = new ResultsStore(dir);
      const all: PlannedRun[] = [];
      for (const exp of experiments) {
        stdout.write(`${exp.id}  ${exp.title}  (${exp.paperRef})\n`);
        const ctx: PlanContext = planContext(exp, profile, {
          outDir: dir,
          generator: checkGenerator(o.generator),
          backend: 'auto',
          ...(o.objective !== undefined ? { objective: o.objective } : {}),
        });
        for (const p of planRuns([exp], new Map([[exp, ctx]]), store)) {
          all.push(p);
          const claim = p.status === 'done' ? undefined : store.claimOf(exp.id, p.task.id, 30_000);
          const state = claim ? (claim.stale ? 'stale claim' : 'claimed') : p.status;
          stdout.write(`    ${p.task.id}  ${state.padEnd(11)}  ${p.task.label}\n`);
        }
      }
      stdout.write(formatCost(estimateCost(all)));
    });

  try {
    await program.parseAsync(['node', 'gcvi-experiments', ...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2; // commander already printed its message
    }
    if (e instanceof GcviError) {
      stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 2;
  }
  return code;
}

function isEntry(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c;
    },
    (e) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
