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
 *     gcvi-experiments --version
 *
 * The profile defaults to GCVI_PROFILE, else `default`; the backend to GCVI_BACKEND, else `auto`;
 * the generator to GCVI_GENERATOR, else `trained`. Every bad value is one `error: <field>: …` line
 * on stderr and exit code 2 before any run starts; a run that fails is reported with its id and
 * the exit code is 1. Stack traces only with `--verbose`.
 */
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkGeneratorCheckpoint } from '@gcvi/datasets';
import { BACKENDS, type BackendRequest, ConfigError, GcviError, initBackend } from '@gcvi/runtime';
import { Command, CommanderError, Option } from 'commander';
import { checkOutDir, checkReadableOutDir, defaultOutDir } from './core/paths.js';
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
  checkProfileSettings,
  planContext,
  planRuns,
  resolveProfile as resolveProfileValue,
  selectExperiments,
} from './pipeline/plan.js';
import { claimSummaryLine, reproduce } from './pipeline/reproduce.js';
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

export { defaultOutDir };

/** Most worker processes `--workers` takes: 4 per core (more only thrash; each loads its own tfjs). */
export function maxWorkers(): number {
  return 4 * Math.max(1, availableParallelism());
}

/** This package's version (`--version`). */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** `--backend`, else GCVI_BACKEND, else `auto`; a bad GCVI_BACKEND is an error naming it. */
export function resolveBackend(
  option: string | undefined,
  env: Record<string, string | undefined>,
): { backend: BackendRequest; source: 'option' | 'env' | 'default' } {
  if (option !== undefined) return { backend: option as BackendRequest, source: 'option' };
  const v = env.GCVI_BACKEND?.trim();
  if (v === undefined || v === '') return { backend: 'auto', source: 'default' };
  if (v !== 'auto' && !(BACKENDS as readonly string[]).includes(v)) {
    throw new ConfigError(
      'GCVI_BACKEND',
      `unknown backend '${env.GCVI_BACKEND}'; use one of auto, ${BACKENDS.join(', ')}`,
    );
  }
  return { backend: v as BackendRequest, source: 'env' };
}

/** Drop stack-frame lines (`    at …`) from an error text, unless `verbose`. */
export function withoutStack(text: string, verbose = false): string {
  if (verbose) return text;
  return text
    .split('\n')
    .filter((l) => !/^\s+at\s/.test(l))
    .join('\n');
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
  const max = maxWorkers();
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
    throw new ConfigError(
      '--workers',
      `must be a non-negative integer (0 = run in this process), got '${v}'`,
    );
  }
  if (n > max) {
    throw new ConfigError(
      '--workers',
      `must be at most ${max} (4 per core on this machine's ${max / 4}), got '${v}'`,
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
  backend?: BackendRequest;
  workers?: number;
  out?: string;
  force?: boolean;
  progress: ProgressMode;
  generator?: string;
  staleAfter?: number;
  plugin?: string[];
  objective?: string;
}

/**
 * `--generator trained|<checkpoint path>`, else GCVI_GENERATOR, else `trained`, checked up front:
 * a checkpoint must exist, be readable and parse as a generator (zip CRCs, names, shapes, finite
 * weights), so a bad one is one message naming the option or variable, not a failure per run.
 * The value reaches the E3/E4 plans through the plan context.
 */
export function checkGenerator(
  value: string | undefined,
  env: Record<string, string | undefined> = {},
): string {
  const fromEnv = value === undefined && env.GCVI_GENERATOR !== undefined && env.GCVI_GENERATOR.trim() !== '';
  const raw = value ?? (fromEnv ? env.GCVI_GENERATOR : undefined);
  const field = fromEnv ? 'GCVI_GENERATOR' : '--generator';
  const v = raw?.trim();
  if (v === undefined || v === 'trained') return generatorSource(v);
  if (v === '') throw new ConfigError(field, "needs 'trained' or a checkpoint path");
  if (!existsSync(v)) {
    throw new ConfigError(field, `'${raw}' is neither 'trained' nor an existing checkpoint file`);
  }
  if (!statSync(v).isFile()) throw new ConfigError(field, `'${raw}' is a folder, not a checkpoint file`);
  try {
    accessSync(v, constants.R_OK);
  } catch {
    throw new ConfigError(field, `checkpoint '${raw}' is not readable (permission denied)`);
  }
  try {
    checkGeneratorCheckpoint(v);
  } catch (e) {
    throw new ConfigError(field, `checkpoint ${(e as Error).message}`);
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
      new Option('--backend <name>', 'tfjs backend for the runs (default: $GCVI_BACKEND or auto)').choices([
        'auto',
        ...BACKENDS,
      ]),
    )
    .addOption(
      new Option(
        '--workers <n>',
        'worker processes, 0 … 4 × cores (0 = in this process; default: number of cores)',
      ).argParser(parseWorkers),
    )
    .option(
      '--out <dir>',
      'results root (default: apps/experiments/results in the workspace, ./results when installed)',
    )
    .option('--force', 'redo finished runs instead of skipping them', false)
    .addOption(
      new Option('--progress <mode>', 'progress display')
        .choices(['auto', 'bars', 'lines', 'none'])
        .default('auto'),
    )
    .option(
      '--generator <source>',
      "E3/E4 generator: 'trained' (our VAE, trained once and cached) or a PyTorch checkpoint path (default: $GCVI_GENERATOR or trained)",
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
  const verbose = argv.includes('--verbose');
  let code = 0;
  const program = new Command('gcvi-experiments')
    .description(
      'Reproduce "Globally Convergent Variational Inference" (McNamara, Loper, Regier; NeurIPS 2024)',
    )
    .version(cliVersion(), '-V, --version', 'print the gcvi-experiments version')
    .option('--verbose', 'print stack traces of errors')
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
      // Everything a newcomer can get wrong is checked here, before any run starts.
      const profileValue = resolveProfile(o.profile, env);
      const profileParsed = resolveProfileValue(profileValue);
      checkProfileSettings(profileParsed, experiments);
      const profileName = profileParsed.name;
      const generator = checkGenerator(o.generator, env);
      const backend = resolveBackend(o.backend, env);
      const outRoot = checkOutDir(o.out ?? defaultOutDir(), o.out === undefined ? 'results folder' : '--out');
      checkOutDir(join(outRoot, profileName), o.out === undefined ? 'results folder' : '--out');
      const scaled = await scaleOutExecutor(
        { ...o, out: outRoot, backend: backend.backend },
        {
          only,
          env,
          experiments,
          stdout,
          stderr,
          generator,
        },
      );
      if (scaled === 'emitted') return;
      if (!o.analyseOnly && (o.executor ?? 'local') === 'local') {
        // A forced backend that cannot load: one BackendError naming where it was asked for.
        await initBackend(
          backend.source === 'env'
            ? { env: { GCVI_BACKEND: backend.backend } }
            : { backend: backend.backend },
        );
      }
      const res = await reproduce({
        profile: profileValue,
        only,
        backend: backend.backend,
        workers: o.workers,
        out: outRoot,
        force: o.force,
        experiments,
        generator,
        staleAfterMs: o.staleAfter,
        plugins: o.plugin,
        objective: o.objective,
        executor: io?.executor ?? scaled,
        progress: o.progress,
        stdout,
        verbose,
      });
      code = res.failed.length > 0 || res.analysisErrors.length > 0 ? 1 : 0;
      // The closing lines, whatever --progress says (the bars have stopped): the claims and where
      // the results went.
      stdout.write(
        `${claimSummaryLine(res.experiments, res.failed.length, res.invocation.counts.planned)}\n`,
      );
      stdout.write(`results: ${res.dir} (report: ${join(res.dir, 'report.md')})\n`);
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
    if (!experiments.some((e) => e.id === id)) {
      throw new ConfigError('experiment', `unknown '${id}' (${experiments.map((e) => e.id).join(', ')})`);
    }
    selectExperiments(experiments, [id]);
    await go([id], o);
  });

  program
    .command('list')
    .description('list the experiments and the runs a profile plans, with their status on disk')
    .addOption(new Option('--profile <name>', 'quick | default | paper, or a profile file (.json)'))
    .option(
      '--out <dir>',
      'results root (default: apps/experiments/results in the workspace, ./results when installed)',
    )
    .option(
      '--generator <source>',
      "E3/E4 generator: 'trained' or a PyTorch checkpoint path (default: $GCVI_GENERATOR or trained)",
    )
    .option('--objective <name>', 'objective for experiments that take one (E1)')
    .action((o: { profile?: string; out?: string; generator?: string; objective?: string }) => {
      const profile = resolveProfileValue(resolveProfile(o.profile, env));
      checkProfileSettings(profile, experiments);
      const generator = checkGenerator(o.generator, env);
      const root = checkReadableOutDir(
        o.out ?? defaultOutDir(),
        o.out === undefined ? 'results folder' : '--out',
      );
      const dir = checkReadableOutDir(
        join(root, profile.name),
        o.out === undefined ? 'results folder' : '--out',
      );
      const store = new ResultsStore(dir);
      const all: PlannedRun[] = [];
      for (const exp of experiments) {
        stdout.write(`${exp.id}  ${exp.title}  (${exp.paperRef})\n`);
        const ctx: PlanContext = planContext(exp, profile, {
          outDir: dir,
          generator,
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
    // --verbose may stand anywhere (before or after the command).
    await program.parseAsync(['node', 'gcvi-experiments', ...argv.filter((a) => a !== '--verbose')]);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2; // commander already printed its message
    }
    if (e instanceof GcviError) {
      stderr.write(`error: ${verbose ? (e.stack ?? e.message) : e.message}\n`);
      return 2;
    }
    const text = e instanceof Error ? (verbose ? (e.stack ?? e.message) : e.message) : String(e);
    stderr.write(`error: ${text}${verbose ? '' : ' (run with --verbose for the stack trace)'}\n`);
    return e instanceof Error && (e as NodeJS.ErrnoException).code === 'EPIPE' ? 0 : 2;
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

/** `gcvi-experiments list | head -1`: the reader went away; stop quietly (exit 0), no EPIPE trace. */
function quietOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

if (isEntry()) {
  quietOnEpipe(process.stdout);
  quietOnEpipe(process.stderr);
  main(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c;
    },
    (e) => {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
