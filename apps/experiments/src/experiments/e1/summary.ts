import type { LoadedRun } from '../../store/store.js';
import { type E1Config, type E1RunResult, type E1Summary, e1SummarySchema, type MODELS } from './schema.js';

export type E1Run = LoadedRun<E1Config, E1RunResult>;

export const byWidth = (runs: readonly E1Run[]) => [...runs].sort((a, b) => a.config.width - b.config.width);

function perWidth(runs: readonly E1Run[], f: (r: E1Run) => number): Record<string, number> {
  return Object.fromEntries(byWidth(runs).map((r) => [String(r.config.width), f(r)]));
}

/**
 * `summary.e1`, from the run results alone: nested objects keyed by model and by width as a
 * string, e.g. `finalTestNll.full["1024"]`, `jacobianDistance["64"]`.
 */
export function summarizeE1(runs: readonly E1Run[]): E1Summary {
  const first = runs[0];
  if (!first) throw new Error('e1: no finished runs to summarize');
  const exact = first.summary.exactNll;
  for (const r of runs) {
    if (Math.abs(r.summary.exactNll - exact) > 1e-12) {
      throw new Error(
        `e1: runs disagree on the exact NLL (${exact} vs ${r.summary.exactNll}): different test sets`,
      );
    }
  }
  const model = (f: (r: E1Run, m: (typeof MODELS)[number]) => number) => ({
    full: perWidth(runs, (r) => f(r, 'full')),
    linear: perWidth(runs, (r) => f(r, 'linear')),
  });
  return e1SummarySchema.parse({
    objective: first.summary.objective,
    exactNll: exact,
    widths: byWidth(runs)
      .map((r) => r.config.width)
      .join(','),
    steps: Math.max(...runs.map((r) => r.config.steps)),
    finalTestNll: model((r, m) => r.summary.finalTestNll[m]),
    gapToExact: model((r, m) => r.summary.finalTestNll[m] - exact),
    fullMinusLinear: perWidth(runs, (r) => r.summary.finalTestNll.full - r.summary.finalTestNll.linear),
    jacobianDistance: perWidth(runs, (r) => r.summary.jacobianDistance),
    ntkDistance: perWidth(runs, (r) => r.summary.ntkDistance),
    ntkMinEigenvalue: perWidth(runs, (r) => r.summary.ntkMinEigenvalue),
    ntkMinEigenvalueFinal: perWidth(runs, (r) => r.summary.ntkMinEigenvalueFinal),
    infiniteNtkMinEigenvalue: first.summary.infiniteNtk.min,
    skippedSteps: model((r, m) => r.summary.skippedSteps[m]),
  });
}
