/**
 * Cost up front: a profile's runs, steps and estimated CPU-hours per experiment, from measured
 * step costs. Each experiment states a run's relative cost (`cost(config)`, in step-equivalents:
 * E1 `2·steps·(1 + width/2048)`, E2 `steps`, …); the table `STEP_COSTS` holds the seconds one
 * cost unit took on this project's machine (one single-threaded wasm run process per run),
 * measured by `calibrateStepCosts` from a finished results folder (`run-meta.json` wall times).
 */
import type { AnyExperiment } from '../core/types.js';
import type { PlannedRun } from '../pipeline/types.js';
import { ResultsStore } from '../store/store.js';
import { STEP_COSTS, type StepCostTable } from './step-costs.js';

export { STEP_COSTS, type StepCostTable };

/** The text of `src/exec/step-costs.ts` for a table (what `calibrate` prints). */
export function stepCostsModule(table: StepCostTable): string {
  const header =
    '/**\n * Measured step costs (seconds per cost unit of each experiment), written by\n * `gcvi-experiments calibrate --results <profile folder> --machine \u2026` and committed.\n * Regenerate on the machine you plan for: `list` estimates CPU-hours from this table.\n */\nexport interface StepCostTable {\n  readonly version: 1;\n  readonly measuredAt: string;\n  readonly machine: string;\n  readonly backend: string;\n  readonly source: string;\n  readonly experiments: Readonly<\n    Record<string, { secondsPerCostUnit: number; runs: number; costUnits: number; wallSeconds: number }>\n  >;\n}\n\n';
  return `${header}// BEGIN GENERATED\nexport const STEP_COSTS: StepCostTable = ${JSON.stringify(table, null, 2)};\n`;
}

/** Seconds per cost unit of each experiment, from the finished runs under `storeRoot`. */
export function calibrateStepCosts(
  storeRoot: string,
  experiments: readonly AnyExperiment[],
  about: { measuredAt: string; machine: string; backend: string; source: string },
): StepCostTable {
  const store = new ResultsStore(storeRoot);
  const out: Record<string, StepCostTable['experiments'][string]> = {};
  for (const exp of experiments) {
    let wall = 0;
    let units = 0;
    let runs = 0;
    for (const id of store.list(exp.id)) {
      if (store.status(exp.id, id) !== 'done') continue;
      const r = store.load(exp.id, id);
      if (!r.meta || r.meta.resumed) continue; // a resumed run's wall time covers only its last session
      wall += r.meta.wallSeconds;
      units += exp.cost?.(r.config as never) ?? exp.progressSteps?.(r.config as never) ?? 1;
      runs += 1;
    }
    if (runs > 0)
      out[exp.id] = { secondsPerCostUnit: wall / units, runs, costUnits: units, wallSeconds: wall };
  }
  return { version: 1, ...about, experiments: out };
}

export interface ExperimentCost {
  readonly experiment: string;
  readonly runs: number;
  readonly steps: number;
  /** Estimated CPU-hours (one core per run), or null without a measured step cost. */
  readonly cpuHours: number | null;
}

/**
 * A run's estimated seconds on one core: its cost units × its experiment's measured seconds per
 * unit. Units are not comparable across experiments (an E2 step is one unit, an E3 image-step
 * another), seconds are: the executor starts the longest runs first and the progress ETA weighs
 * runs by this. An experiment without a measurement (a plugin's) counts its units as seconds.
 */
export function estimatedSeconds(
  p: Pick<PlannedRun, 'experiment' | 'cost'>,
  table: StepCostTable = STEP_COSTS,
): number {
  const s = table.experiments[p.experiment.id]?.secondsPerCostUnit;
  return s === undefined ? p.cost : p.cost * s;
}

/** Per experiment: runs, progress steps and estimated CPU-hours of the planned runs. */
export function estimateCost(
  planned: readonly PlannedRun[],
  table: StepCostTable = STEP_COSTS,
): ExperimentCost[] {
  const by = new Map<string, { runs: number; steps: number; units: number }>();
  for (const p of planned) {
    const c = by.get(p.experiment.id) ?? { runs: 0, steps: 0, units: 0 };
    c.runs += 1;
    c.steps += p.steps;
    c.units += p.cost;
    by.set(p.experiment.id, c);
  }
  return [...by].map(([experiment, c]) => {
    const s = table.experiments[experiment]?.secondsPerCostUnit;
    return {
      experiment,
      runs: c.runs,
      steps: c.steps,
      cpuHours: s === undefined ? null : (c.units * s) / 3600,
    };
  });
}

function fmtHours(h: number | null): string {
  if (h === null) return 'unknown (no measured step cost)';
  if (h < 0.1) return `${(h * 60).toFixed(1)} CPU-minutes`;
  return `${h < 10 ? h.toFixed(2) : h.toFixed(0)} CPU-hours`;
}

/** The cost table `list` prints. */
export function formatCost(costs: readonly ExperimentCost[], table: StepCostTable = STEP_COSTS): string {
  const L = [
    'cost (estimated from measured step costs: ' +
      table.source +
      ', ' +
      table.measuredAt +
      ', ' +
      table.backend +
      ', ' +
      table.machine +
      '):',
  ];
  let runs = 0;
  let steps = 0;
  let hours = 0;
  let unknown = false;
  for (const c of costs) {
    L.push(
      `    ${c.experiment.padEnd(4)} ${String(c.runs).padStart(5)} runs  ${String(c.steps).padStart(12)} steps  ${fmtHours(c.cpuHours)}`,
    );
    runs += c.runs;
    steps += c.steps;
    if (c.cpuHours === null) unknown = true;
    else hours += c.cpuHours;
  }
  L.push(
    `    ${'all'.padEnd(4)} ${String(runs).padStart(5)} runs  ${String(steps).padStart(12)} steps  ${fmtHours(hours)}${unknown ? ' + the experiments without a measured cost' : ''}`,
  );
  return `${L.join('\n')}\n`;
}

/**
 * The order to hand runs to `workers` run processes: longest first by estimated seconds (list
 * scheduling), except that a run whose shared cache (`cacheKey`, e.g. the E3/E4 generator) is
 * being built by a run already handed out waits, while other runs are left, until that run is
 * estimated to have finished — so a second process does not sit on the cache's lock while work
 * that needs no cache is waiting. Simulated with the same estimates; every run appears once.
 */
export function orderForWorkers<T extends Pick<PlannedRun, 'experiment' | 'cost' | 'cacheKey'>>(
  runs: readonly T[],
  workers: number,
  table: StepCostTable = STEP_COSTS,
): T[] {
  const secs = new Map(runs.map((r) => [r, estimatedSeconds(r, table)]));
  const left = [...runs].sort((a, b) => (secs.get(b) as number) - (secs.get(a) as number));
  const free = Array.from({ length: Math.max(1, workers) }, () => 0);
  const readyAt = new Map<string, number>();
  const out: T[] = [];
  while (left.length > 0) {
    const slot = free.indexOf(Math.min(...free));
    const t = free[slot] as number;
    const ok = (r: T) =>
      r.cacheKey === undefined || !readyAt.has(r.cacheKey) || (readyAt.get(r.cacheKey) as number) <= t;
    let i = left.findIndex(ok);
    if (i < 0) i = 0;
    const r = left.splice(i, 1)[0] as T;
    const end = t + (secs.get(r) as number);
    if (r.cacheKey !== undefined && !readyAt.has(r.cacheKey)) readyAt.set(r.cacheKey, end);
    free[slot] = end;
    out.push(r);
  }
  return out;
}
