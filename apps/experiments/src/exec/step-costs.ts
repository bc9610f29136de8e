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
  measuredAt: 'never',
  machine: 'none',
  backend: 'none',
  source: 'no measurement yet',
  experiments: {},
};
