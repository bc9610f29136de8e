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
  measuredAt: '2026-12-01',
  machine:
    "this project's VM, 2 cores shared with ~6 other helpers' builds and tests (load average ~5-10), quick profile, 1 run process",
  backend: 'wasm',
  source: 'run-meta.json wall times of quick profile runs (calibrate)',
  experiments: {
    e1: {
      secondsPerCostUnit: 0.014457408508717944,
      runs: 3,
      costUnits: 4387.5,
      wallSeconds: 63.43187983199998,
    },
    e2: {
      secondsPerCostUnit: 0.18003984764374997,
      runs: 8,
      costUnits: 320,
      wallSeconds: 57.612751245999995,
    },
    e3: {
      secondsPerCostUnit: 0.023890930829947928,
      runs: 8,
      costUnits: 3840,
      wallSeconds: 91.74117438700004,
    },
    e4: {
      secondsPerCostUnit: 0.06217679184429826,
      runs: 2,
      costUnits: 456,
      wallSeconds: 28.352617081000005,
    },
  },
};
