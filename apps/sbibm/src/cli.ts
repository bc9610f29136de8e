#!/usr/bin/env node
import { ConfigError, initBackend } from '@gcvi/runtime';
import { Command, Option } from 'commander';
import { PROFILES, parseConfig, type SbibmConfig } from './config.js';
import { writeReport } from './report.js';
import { cellsOf, dataRoot, readCells, runCell } from './run.js';

const list = (v: string) => v.split(',').map((s) => s.trim());
const numList = (v: string) => list(v).map((s) => Number(s));
const seedList = (v: string) =>
  list(v).map((s) => {
    const n = Number(s);
    if (s === '' || !Number.isInteger(n) || n < 0)
      throw new ConfigError('--seeds', `each seed must be a whole number ≥ 0 (got '${s}')`);
    return n;
  });
const threadCount = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError('--threads', `must be a whole number ≥ 1 (got '${v}')`);
  return n;
};

/** Build the config from a profile and the flags, validated (one error naming the flag). */
export function configFrom(opts: Record<string, unknown>): SbibmConfig {
  const profile = (opts.profile as string) ?? 'default';
  const base = PROFILES[profile as SbibmConfig['profile']];
  if (!base) {
    throw new ConfigError('--profile', `unknown profile '${profile}' (use quick, default or full)`);
  }
  return parseConfig({
    ...base,
    ...(opts.tasks ? { tasks: opts.tasks } : {}),
    ...(opts.budgets ? { budgets: opts.budgets } : {}),
    ...(opts.families ? { families: opts.families } : {}),
    ...(opts.observations ? { observations: opts.observations } : {}),
    ...(opts.samples !== undefined ? { samples: opts.samples } : {}),
    ...(opts.seeds ? { seeds: opts.seeds } : {}),
    ...(opts.out ? { out: opts.out } : {}),
    ...(opts.data ? { data: opts.data } : {}),
  });
}

export function program(): Command {
  const p = new Command('gcvi-sbibm').description(
    'gcvi on sbibm: train amortized posteriors per task and budget, C2ST against the reference samples',
  );
  p.command('run')
    .description('run (or resume) every cell of a profile, then write results/c2st.csv and results/table.md')
    .addOption(new Option('--profile <name>', 'quick | default | full').default('default'))
    .option('--tasks <list>', 'comma list of gaussian_linear, two_moons, slcp', list)
    .option('--budgets <list>', 'comma list of simulation budgets, e.g. 1000,10000', numList)
    .option('--families <list>', 'comma list of flow, gaussian', list)
    .option('--observations <list>', 'comma list of observations 1–5', numList)
    .option('--samples <n>', 'posterior and reference draws per observation (sbibm: 10000)', Number)
    .option(
      '--seeds <list>',
      'comma list of training seeds (default 0); each trains every cell anew, the table averages them',
      seedList,
    )
    .option('--out <dir>', 'results folder (default results)')
    .option('--data <dir>', 'sbibm reference data (default $GCVI_SBIBM_DIR or ../shared/fixtures/sbibm)')
    .option(
      '--threads <n>',
      "worker threads for each C2ST's folds (default: the machine's cores)",
      threadCount,
    )
    .action(async (opts) => {
      const config = configFrom(opts);
      const root = dataRoot(config);
      const backend = await initBackend();
      process.stderr.write(`gcvi-sbibm: profile ${config.profile}, backend ${backend.name}, data ${root}\n`);
      const cells = cellsOf(config);
      for (const [i, c] of cells.entries()) {
        process.stderr.write(
          `cell ${i + 1}/${cells.length}: ${c.task} ${c.budget} ${c.family}${c.seed === 0 ? '' : ` seed ${c.seed}`}\n`,
        );
        await runCell(config, root, c.task, c.budget, c.family, { threads: opts.threads }, c.seed);
        writeReport(config.out, readCells(config.out), config.profile);
      }
      const files = writeReport(config.out, readCells(config.out), config.profile);
      process.stderr.write(`wrote ${files.csv} and ${files.md}\n`);
    });
  p.command('report')
    .description('rewrite results/c2st.csv and results/table.md from the cell results present')
    .option('--out <dir>', 'results folder', 'results')
    .option('--profile <name>', 'profile named in the table title', 'default')
    .action((opts) => {
      const files = writeReport(opts.out, readCells(opts.out), opts.profile);
      process.stderr.write(`wrote ${files.csv} and ${files.md}\n`);
    });
  return p;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  program()
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      process.stderr.write(`gcvi-sbibm: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
}
