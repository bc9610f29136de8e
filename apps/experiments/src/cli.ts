#!/usr/bin/env node
/**
 * gcvi-experiments: reproduce the paper's figures and tables.
 *
 *     gcvi-experiments reproduce [--profile quick|default|paper] [--only e1,e2] [--backend auto|wasm|cpu|tensorflow]
 *                                [--workers N] [--out DIR] [--force] [--progress auto|bars|lines|none]
 *                                [--generator trained|<checkpoint path>]
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
import { planRuns, reproduce, selectExperiments } from './core/reproduce.js';
import { ResultsStore } from './core/store.js';
import { type AnyExperiment, PROFILES, type ProfileName } from './core/types.js';
import { appRoot } from './core/versions.js';
import type { ProgressMode } from './exec/progress.js';
import type { Executor } from './exec/types.js';
import { EXPERIMENTS } from './experiments/registry.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Experiments to offer (default: the registry). */
  experiments?: readonly AnyExperiment[];
  /** Executor override (tests). */
  executor?: Executor;
}

/** Default output root: `apps/experiments/results`. */
export function defaultOutDir(): string {
  return join(appRoot(), 'results');
}

export function resolveProfile(
  option: string | undefined,
  env: Record<string, string | undefined>,
): ProfileName {
  const [value, field] =
    option !== undefined
      ? [option, '--profile']
      : env.GCVI_PROFILE
        ? [env.GCVI_PROFILE, 'GCVI_PROFILE']
        : ['default', 'profile'];
  if (!(PROFILES as readonly string[]).includes(value)) {
    throw new ConfigError(field, `unknown profile '${value}'; use one of ${PROFILES.join(', ')}`);
  }
  return value as ProfileName;
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
}

/**
 * `--generator trained|<checkpoint path>`: the E3/E4 generator. It reaches the experiments' plans
 * (and the worker processes) through GCVI_GENERATOR, which is part of every E3/E4 run's config.
 */
function applyGenerator(value: string | undefined, env: Record<string, string | undefined>): void {
  if (value === undefined) return;
  const v = value.trim();
  if (v !== 'trained') {
    if (!existsSync(v) || !statSync(v).isFile()) {
      throw new ConfigError('--generator', `'${value}' is neither 'trained' nor an existing checkpoint file`);
    }
  }
  const resolved = v === 'trained' ? v : resolve(v);
  env.GCVI_GENERATOR = resolved;
  process.env.GCVI_GENERATOR = resolved;
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--profile <name>', 'quick | default | paper (default: $GCVI_PROFILE or default)'))
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
      "E3/E4 generator: 'trained' (our VAE, trained once and cached) or a PyTorch checkpoint path (default: $GCVI_GENERATOR or trained)",
    );
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

  const go = async (only: string[] | undefined, o: CommonOpts) => {
    applyGenerator(o.generator, env);
    const res = await reproduce({
      profile: resolveProfile(o.profile, env),
      only,
      backend: o.backend,
      workers: o.workers,
      out: resolve(o.out ?? defaultOutDir()),
      force: o.force,
      experiments,
      executor: io?.executor,
      progress: o.progress,
      stdout,
    });
    code = res.failed.length > 0 || res.analysisErrors.length > 0 ? 1 : 0;
  };

  addRunOptions(
    program
      .command('reproduce')
      .description(
        'run every (or --only some) experiment of a profile, then write figures, summary.json and the report',
      ),
  )
    .addOption(new Option('--only <ids>', 'comma-separated experiment ids, e.g. e1,e2').argParser(parseOnly))
    .action(async (o: CommonOpts & { only?: string[] }) => go(o.only, o));

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
    .addOption(new Option('--profile <name>', 'quick | default | paper (default: $GCVI_PROFILE or default)'))
    .option('--out <dir>', 'results root (default: apps/experiments/results)')
    .action((o: { profile?: string; out?: string }) => {
      const profile = resolveProfile(o.profile, env);
      const store = new ResultsStore(join(resolve(o.out ?? defaultOutDir()), profile));
      for (const exp of experiments) {
        stdout.write(`${exp.id}  ${exp.title}  (${exp.paperRef})\n`);
        for (const p of planRuns([exp], profile, store)) {
          stdout.write(`    ${p.task.id}  ${p.status.padEnd(7)}  ${p.task.label}\n`);
        }
      }
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
