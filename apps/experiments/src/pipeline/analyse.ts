/** Analyse: an experiment's finished runs → its summary, figures, tables and claims (files written). */
import { join } from 'node:path';
import { type WrittenFigure, writeFigure } from '@gcvi/plots';
import { type WrittenTable, writeTable } from '../core/tables.js';
import type { AnyExperiment, FigureDef, PlanContext, TableDef } from '../core/types.js';
import type { LoadedRun, ResultsStore } from '../store/store.js';
import { schemasOf } from './plan.js';
import type { ExperimentResult, PlannedRun } from './types.js';

function incomplete(
  exp: AnyExperiment,
  runs: number,
  why: string,
  deviations: readonly string[],
): ExperimentResult {
  return {
    id: exp.id,
    title: exp.title,
    complete: false,
    runs,
    incomplete: why,
    summary: { incomplete: why },
    figures: [],
    tables: [],
    claims: [],
    deviations,
  };
}

/**
 * Analyse one experiment from its planned runs (each loaded and checked against its schemas).
 * If a run is missing or the analysis throws, the result says why, and the other experiments go on.
 */
export async function analyseExperiment(
  exp: AnyExperiment,
  planned: readonly PlannedRun[],
  store: ResultsStore,
  ctx: PlanContext,
  dir: string,
): Promise<{ result: ExperimentResult; error?: string }> {
  const mine = planned.filter((p) => p.experiment === exp);
  const deviations = exp.deviations(ctx);
  const done = mine.filter((p) => store.status(exp.id, p.task.id) === 'done');
  if (done.length !== mine.length) {
    return {
      result: incomplete(
        exp,
        mine.length,
        `${mine.length - done.length} of ${mine.length} runs failed`,
        deviations,
      ),
    };
  }
  try {
    const runs: LoadedRun<unknown, unknown>[] = done.map((p) =>
      store.load(exp.id, p.task.id, schemasOf(exp)),
    );
    const summary = exp.summarize(runs, ctx.profile);
    const figures: { def: FigureDef; files: WrittenFigure }[] = [];
    for (const def of exp.figures(runs, summary, ctx.profile))
      figures.push({ def, files: await writeFigure(join(dir, 'figures'), def) });
    const tables: { def: TableDef; files: WrittenTable }[] = [];
    for (const def of exp.tables?.(runs, summary, ctx.profile) ?? [])
      tables.push({ def, files: writeTable(join(dir, 'tables'), def) });
    const claims = exp.claims(runs, summary, ctx.profile);
    return {
      result: {
        id: exp.id,
        title: exp.title,
        complete: true,
        runs: mine.length,
        summary,
        figures,
        tables,
        claims,
        deviations,
      },
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      result: incomplete(exp, mine.length, `analysis failed: ${message}`, deviations),
      error: `${exp.id}: ${message}`,
    };
  }
}
