import type { SummaryTree } from '../../core/types.js';
import type { LoadedRun } from '../../store/store.js';
import type { E3Config, E3Method } from './config.js';
import type { E3RunSummary } from './run.js';

export type E3Run = LoadedRun<E3Config, E3RunSummary>;

/** Signed difference a − b of two angles in degrees, in (−180, 180]. */
export function angleDiffDeg(a: number, b: number): number {
  const d = (((a - b) % 360) + 360) % 360;
  return d > 180 ? d - 360 : d;
}

export const byInit = (runs: readonly E3Run[], m: E3Method) =>
  runs.filter((r) => r.config.method === m).sort((a, b) => a.config.initDeg - b.config.initDeg);

/** `summary.e3`: `finalAngleDeg.<forwardKl|iwbo>.<init>`, `trueAngleDeg`, and timings. */
export function summarizeE3(runs: readonly E3Run[]): SummaryTree {
  if (runs.length === 0) throw new Error('e3: no finished runs to summarize');
  const per = (m: E3Method, f: (r: E3Run) => number): SummaryTree =>
    Object.fromEntries(byInit(runs, m).map((r) => [String(r.config.initDeg), f(r)]));
  const lp = byInit(runs, 'forwardKl');
  const maxErr = lp.length
    ? Math.max(...lp.map((r) => Math.abs(angleDiffDeg(r.summary.finalAngleDeg, 260))))
    : Number.NaN;
  return {
    trueAngleDeg: 260,
    generator: runs[0]!.summary.generator,
    finalAngleDeg: {
      forwardKl: per('forwardKl', (r) => r.summary.finalAngleDeg),
      iwbo: per('iwbo', (r) => r.summary.finalAngleDeg),
    },
    forwardKlMaxAbsErrorDeg: maxErr,
    iwboDistinctEndpoints: distinctEndpoints(byInit(runs, 'iwbo').map((r) => r.summary.finalAngleDeg)),
  };
}

/** Number of clusters of end angles when angles within 10° (on the circle) are chained together. */
export function distinctEndpoints(anglesDeg: readonly number[], tolDeg = 10): number {
  const a = [...anglesDeg].map((v) => ((v % 360) + 360) % 360).sort((x, y) => x - y);
  if (a.length === 0) return 0;
  let gaps = 0;
  for (let i = 0; i < a.length; i++) {
    const next = i + 1 < a.length ? (a[i + 1] as number) : (a[0] as number) + 360;
    if (next - (a[i] as number) > tolDeg) gaps++;
  }
  return Math.max(1, gaps);
}
