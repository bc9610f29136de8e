import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { BUDGETS, FAMILIES, SBI_NPE, sbiNpeMean, TASKS } from './config.js';
import { type CellResult, cellSeed } from './run.js';

const CSV_HEADER = 'task,budget,family,observation,c2st,train_seconds,wall_seconds,seed';

/**
 * One row per cell, seed and observation: the C2ST, the cell's training and wall time (seconds)
 * and its training seed.
 */
export function csvOf(cells: readonly CellResult[]): string {
  const rows = [CSV_HEADER];
  for (const c of cells)
    for (const o of c.observations)
      rows.push(
        [
          c.task,
          c.budget,
          c.family,
          o.observation,
          o.c2st.toFixed(4),
          c.trainSeconds.toFixed(1),
          c.wallSeconds.toFixed(1),
          cellSeed(c),
        ].join(','),
      );
  return `${rows.join('\n')}\n`;
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const fmtTime = (s: number) => (s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
const obsRange = (obs: readonly number[]) =>
  obs.length === 1 ? `${obs[0]}` : `${obs[0]}–${obs[obs.length - 1]}`;

/**
 * One table entry: a task × budget × family's cells, one per training seed. With one seed, the
 * mean C2ST over its observations and its wall time; with several, the mean over seeds of each
 * seed's mean over its observations, the range of those per-seed means and the mean wall time
 * per seed.
 */
function entryOf(group: readonly CellResult[]): string {
  const scored = group.filter((c) => c.observations.length > 0);
  if (scored.length === 0) {
    const c = group[0]!;
    return `trained (${fmtTime(c.trainSeconds)}${group.length > 1 ? `, ${group.length} seeds` : ''}), C2ST not run`;
  }
  const perSeed = scored.map((c) => mean(c.observations.map((o) => o.c2st)));
  const obs = [...new Set(scored.flatMap((c) => c.observations.map((o) => o.observation)))].sort(
    (a, b) => a - b,
  );
  if (scored.length === 1)
    return `**${perSeed[0]!.toFixed(3)}** (obs ${obsRange(obs)}; ${fmtTime(scored[0]!.wallSeconds)})`;
  const seeds = scored.map(cellSeed);
  return `**${mean(perSeed).toFixed(3)}** (${scored.length} seeds: ${seeds.join(', ')}; obs ${obsRange(obs)}; seed means ${Math.min(...perSeed).toFixed(3)}–${Math.max(...perSeed).toFixed(3)}; ${fmtTime(mean(scored.map((c) => c.wallSeconds)))} per seed)`;
}

/**
 * The Markdown table: per task and budget, sbi's NPE number, then ours for each family (mean C2ST
 * over the observations run, how many, and the cell's wall time). Cells without results say
 * "not run" (with `estimate`'s guess of the time when given).
 */
export function tableOf(
  cells: readonly CellResult[],
  estimate?: (task: string, budget: number, family: string) => string | undefined,
): string {
  const budgets = BUDGETS as readonly number[];
  const head = `| task | family | ${budgets.map((b) => `${b.toExponential(0).replace('e+', '·10^')} sims`).join(' | ')} |`;
  const lines = [head, `|---|---|${budgets.map(() => '---').join('|')}|`];
  for (const task of TASKS) {
    lines.push(
      `| ${task} | sbi NPE (NSF), obs 1–10 | ${budgets.map((b) => SBI_NPE[task][b]!.toFixed(3)).join(' | ')} |`,
      `| ${task} | sbi NPE (NSF), obs 1–5 | ${budgets.map((b) => sbiNpeMean(task, b, [1, 2, 3, 4, 5]).toFixed(3)).join(' | ')} |`,
    );
    for (const family of FAMILIES) {
      const cols = budgets.map((b) => {
        const group = cells
          .filter((x) => x.task === task && x.budget === b && x.family === family)
          .sort((x, y) => cellSeed(x) - cellSeed(y));
        if (group.length === 0) {
          const e = estimate?.(task, b, family);
          return e ? `not run (est. ${e})` : 'not run';
        }
        return entryOf(group);
      });
      lines.push(
        `| ${task} | gcvi ${family === 'flow' ? 'flow (NSF)' : 'Gaussian (full cov.)'} | ${cols.join(' | ')} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Per-cell detail: training steps, epochs, early stopping, per-observation C2ST (with the share
 * of draws inside the prior's support when some were rejected).
 */
export function detailOf(cells: readonly CellResult[]): string {
  const lines = [
    '| task | budget | family | seed | batch kept (validation NLL per batch tried) | steps | epochs (best) | train | wall | C2ST per observation |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of cells) {
    const tried = (c.candidates ?? [])
      .map((k) => `${k.batchSize}: ${k.bestValidationLoss.toFixed(3)}`)
      .join(', ');
    const batch = c.batchSize === undefined ? '?' : `**${c.batchSize}**${tried ? ` (${tried})` : ''}`;
    lines.push(
      `| ${c.task} | ${c.budget} | ${c.family} | ${cellSeed(c)} | ${batch} | ${c.steps} | ${c.epochs} (${c.bestEpoch}${c.stoppedEarly ? ', early stop' : ''}) | ${fmtTime(c.trainSeconds)} | ${fmtTime(c.wallSeconds)} | ${c.observations.map((o) => `${o.observation}: ${o.c2st.toFixed(3)}${o.acceptance !== undefined && o.acceptance < 1 ? ` (${(100 * o.acceptance).toFixed(1)}% in prior)` : ''}`).join(', ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Write results/c2st.csv and results/table.md (atomically). */
export function writeReport(
  out: string,
  cells: readonly CellResult[],
  profile: string,
): { csv: string; md: string } {
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'c2st.csv');
  const md = join(dir, 'table.md');
  writeFileAtomic.sync(csv, csvOf(cells));
  const settings = cells.find((c) => c.c2stSettings)?.c2stSettings ?? '';
  writeFileAtomic.sync(
    md,
    [
      `# gcvi on sbibm (profile \`${profile}\`)`,
      '',
      'C2ST accuracy (0.5 = indistinguishable from the reference posterior), mean over the observations run (and over the training seeds, where several ran), with the wall time of the cell (training, drawing and C2ST) on this machine. sbi NPE: the published neural-spline-flow numbers, mean over observations 1–10 (as sbi reports them) and over observations 1–5 (the ones sbibm ships reference samples for here, and the like-for-like comparison with a cell that ran 1–5).',
      '',
      tableOf(cells),
      settings,
      '',
      '## Cells',
      '',
      detailOf(cells),
    ].join('\n'),
  );
  return { csv, md };
}
