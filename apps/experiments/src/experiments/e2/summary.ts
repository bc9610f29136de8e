/** E2 across runs: the summary numbers (`summary.e2`) and Table 1, from the runs' outcomes. */

import type { SummaryTree, TableDef } from '../../core/types.js';
import type { LoadedRun } from '../../store/store.js';
import type { E2Config } from './config.js';
import { PARAMETERIZATIONS } from './family.js';
import { type E2Outcome, isFailed, objectiveKey, type Table1Row, table1, table1Table } from './table.js';
import { type E2RunResult, OBJECTIVES } from './train.js';

export type E2Run = LoadedRun<E2Config, E2Outcome>;

export function outcomes(runs: readonly E2Run[]): E2Outcome[] {
  return runs.map((r) => r.summary);
}

export function successful(runs: readonly E2Run[]): E2RunResult[] {
  return outcomes(runs).filter((r): r is E2RunResult => !isFailed(r));
}

/**
 * `summary.json` under `e2`: `inOrder.<forwardKl|elbo>.<mean|natural>` (share 0..1),
 * `replicates` (successful replicates per cell, the smallest over the four cells),
 * `shiftMode.<forwardKl|elbo>.<mean|natural>` (the modes of q(S | X), in seed order), and the rest
 * of Table 1.
 */
export function summarizeE2(runs: readonly E2Run[]): SummaryTree {
  const rows = table1(outcomes(runs));
  const ok = successful(runs);
  const byCell = <T>(f: (row: Table1Row) => T) => {
    const out: Record<string, Record<string, T>> = {};
    for (const row of rows) {
      const k = objectiveKey(row.objective);
      out[k] ??= {};
      out[k]![row.parameterization] = f(row);
    }
    return out;
  };
  const shiftMode: Record<string, Record<string, number[]>> = {};
  const failedSeeds: Record<string, Record<string, number[]>> = {};
  for (const o of OBJECTIVES) {
    const k = objectiveKey(o);
    shiftMode[k] = {};
    failedSeeds[k] = {};
    for (const p of PARAMETERIZATIONS) {
      shiftMode[k][p] = ok
        .filter((r) => r.objective === o && r.parameterization === p)
        .sort((a, b) => a.seed - b.seed)
        .map((r) => r.modeS);
      failedSeeds[k][p] = rows
        .find((r) => r.objective === o && r.parameterization === p)!
        .failedSeeds.slice();
    }
  }
  const tree = {
    replicates: Math.min(...rows.map((r) => r.n)),
    inOrder: byCell((r) => r.inOrderShare),
    inOrderWilson95: byCell((r) => ({ low: r.wilsonLow, high: r.wilsonHigh })),
    matched: byCell((r) => r.matchedShare),
    l1Mean: byCell((r) => r.l1Mean),
    l1Sd: byCell((r) => r.l1Sd),
    shiftMode,
    failedSeeds,
  };
  // Lists of numbers are plain JSON in summary.json; SummaryTree's type only names scalars and objects.
  return tree as unknown as SummaryTree;
}

/** Table 1 (`tables/table-1.{csv,md}` and the report), from the runs' outcomes. */
export function e2Tables(runs: readonly E2Run[]): TableDef[] {
  return [table1Table(table1(outcomes(runs)))];
}
