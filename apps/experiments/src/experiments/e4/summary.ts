import type { SummaryTree } from '../../core/types.js';
import type { LoadedRun } from '../../store/store.js';
import type { E4Config } from './config.js';
import type { E4RunSummary } from './run.js';

export type E4Run = LoadedRun<E4Config, E4RunSummary>;

export const METRICS = ['forwardKl', 'reverseKl', 'nll', 'angleDeg'] as const;

/** `summary.e4`: `final.<forwardKl|elbo>.<forwardKl|reverseKl|nll|angleDeg>` and the exact-posterior numbers. */
export function summarizeE4(runs: readonly E4Run[]): SummaryTree {
  if (runs.length === 0) throw new Error('e4: no finished runs to summarize');
  const final: Record<string, SummaryTree> = {};
  for (const r of runs) {
    final[r.config.method] = Object.fromEntries(METRICS.map((k) => [k, r.summary.final[k]]));
  }
  const r0 = runs[0]!.summary;
  return {
    trueAngleDeg: r0.trueAngleDeg,
    posteriorModeDeg: r0.posteriorModeDeg,
    posteriorSdDeg: (r0.posteriorSd * 180) / Math.PI,
    logEvidence: r0.logEvidence,
    generator: r0.generator,
    final,
  };
}
