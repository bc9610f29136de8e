/**
 * Measured step costs (seconds per cost unit of each experiment), written by
 * `gcvi-experiments calibrate --results <profile folder> --machine …` and committed.
 * Regenerate on the machine you plan for: `list` estimates CPU-hours from this table.
 */
export interface StepCostTable {
  readonly version: 1;
  readonly measuredAt: string;
  readonly machine: string;
  readonly backend: string;
  readonly source: string;
  readonly experiments: Readonly<
    Record<string, { secondsPerCostUnit: number; runs: number; costUnits: number; wallSeconds: number }>
  >;
}

// BEGIN GENERATED
export const STEP_COSTS: StepCostTable = {
  version: 1,
  measuredAt: '2026-12-02',
  machine:
    "this project's VM, 2 cores (AMD EPYC), default profile from a fresh clone, 2 run processes; the first 20 of its 49 min shared with two helpers' jobs",
  backend: 'wasm',
  source: 'run-meta.json wall times of default profile runs (calibrate)',
  experiments: {
    e1: {
      secondsPerCostUnit: 0.0009607280213971836,
      runs: 4,
      costUnits: 266250,
      wallSeconds: 255.79383569700013,
    },
    e2: {
      secondsPerCostUnit: 0.028884565537712497,
      runs: 80,
      costUnits: 80000,
      wallSeconds: 2310.7652430169996,
    },
    e3: {
      secondsPerCostUnit: 0.0004436433689086913,
      runs: 24,
      costUnits: 4915200,
      wallSeconds: 2180.5958868599996,
    },
    e4: {
      secondsPerCostUnit: 0.0014552348036936088,
      runs: 2,
      costUnits: 532000,
      wallSeconds: 774.1849155649999,
    },
  },
};
