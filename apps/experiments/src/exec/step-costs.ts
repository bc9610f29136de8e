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
    "this project's VM, 2 cores (AMD EPYC), shared with a concurrent test run (load average ~4-9), default profile, 2 run processes",
  backend: 'wasm',
  source: 'run-meta.json wall times of default profile runs (calibrate)',
  experiments: {
    e1: {
      secondsPerCostUnit: 0.0024455943489089197,
      runs: 4,
      costUnits: 266250,
      wallSeconds: 651.1394953969999,
    },
    e2: {
      secondsPerCostUnit: 0.09432834968405265,
      runs: 19,
      costUnits: 19000,
      wallSeconds: 1792.2386439970005,
    },
    e3: {
      secondsPerCostUnit: 0.000540936737867635,
      runs: 24,
      costUnits: 4915200,
      wallSeconds: 2658.812253967,
    },
    e4: {
      secondsPerCostUnit: 0.0018930798911503757,
      runs: 2,
      costUnits: 532000,
      wallSeconds: 1007.1185020919999,
    },
  },
};
