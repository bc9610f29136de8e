/** Cost up front: `list` prints runs, steps and CPU-hours per experiment from the measured table. */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import {
  estimateCost,
  estimatedSeconds,
  formatCost,
  orderForWorkers,
  STEP_COSTS,
  type StepCostTable,
} from '../src/exec/cost.js';
import type { PlannedRun } from '../src/index.js';
import { capture } from './fixtures/capture.js';

const table: StepCostTable = {
  version: 1,
  measuredAt: '2026-12-01',
  machine: 'test',
  backend: 'wasm',
  source: 'test table',
  experiments: { a: { secondsPerCostUnit: 0.5, runs: 1, costUnits: 1, wallSeconds: 0.5 } },
};

function planned(exp: string, cost: number, steps: number): PlannedRun {
  return {
    experiment: { id: exp } as PlannedRun['experiment'],
    task: {} as PlannedRun['task'],
    status: 'new',
    cost,
    steps,
  };
}

describe('cost estimate', () => {
  it('CPU-hours = Σ run cost × measured seconds per cost unit / 3600; unknown without a measurement', () => {
    const c = estimateCost([planned('a', 7200, 10), planned('a', 3600, 5), planned('b', 1, 1)], table);
    expect(c).toEqual([
      { experiment: 'a', runs: 2, steps: 15, cpuHours: (10800 * 0.5) / 3600 },
      { experiment: 'b', runs: 1, steps: 1, cpuHours: null },
    ]);
    const text = formatCost(c, table);
    expect(text).toContain('test table');
    expect(text).toMatch(/a\s+2 runs\s+15 steps\s+1\.50 CPU-hours/);
    expect(text).toMatch(/b\s+1 runs\s+1 steps\s+unknown/);
  });

  it("a run's estimated seconds are its units × its experiment's seconds per unit (units alone when unmeasured)", () => {
    const t: StepCostTable = {
      ...table,
      experiments: {
        a: { secondsPerCostUnit: 0.1, runs: 1, costUnits: 10, wallSeconds: 1 },
        c: { secondsPerCostUnit: 0.001, runs: 1, costUnits: 1000, wallSeconds: 1 },
      },
    };
    // a: 1,000 units of 0.1 s = 100 s outweighs c: 50,000 units of 1 ms = 50 s, though c has more units
    expect(estimatedSeconds(planned('a', 1000, 1000), t)).toBeCloseTo(100, 12);
    expect(estimatedSeconds(planned('c', 50_000, 10), t)).toBeCloseTo(50, 12);
    expect(estimatedSeconds(planned('b', 7, 7), t)).toBe(7);
  });

  it('orders runs longest first, keeping runs that wait for a cache being built off the other process', () => {
    const t: StepCostTable = {
      ...table,
      experiments: { x: { secondsPerCostUnit: 1, runs: 1, costUnits: 1, wallSeconds: 1 } },
    };
    const run = (name: string, cost: number, cacheKey?: string) => ({
      name,
      experiment: { id: 'x' } as PlannedRun['experiment'],
      cost,
      ...(cacheKey ? { cacheKey } : {}),
    });
    const runs = [
      run('C', 100),
      run('B', 500, 'g'),
      run('D', 100),
      run('A', 600, 'g'),
      run('E', 100),
      run('F', 100),
    ];
    // A builds g (until t = 600 on the simulated clock); the other process does C, D, E, F meanwhile, then B
    expect(orderForWorkers(runs, 2, t).map((r) => r.name)).toEqual(['A', 'C', 'D', 'E', 'F', 'B']);
    // one process: nothing to wait beside, longest first
    expect(orderForWorkers(runs, 1, t).map((r) => r.name)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    // without cache keys: longest first
    const plain = runs.map(({ cacheKey: _k, ...r }) => r);
    expect(orderForWorkers(plain, 2, t).map((r) => r.name)).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    // nothing else to do: the waiting run is still handed out
    expect(orderForWorkers([run('A', 600, 'g'), run('B', 500, 'g')], 2, t).map((r) => r.name)).toEqual([
      'A',
      'B',
    ]);
  });

  it('the default profile does not start two generator runs side by side', async () => {
    const { EXPERIMENTS, planRuns, ResultsStore, resolveProfile } = await import('../src/index.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-order-'));
    try {
      const profile = resolveProfile('default');
      const ctx = new Map(
        EXPERIMENTS.map((e) => [
          e,
          {
            profile: profile.name,
            profileName: profile.name,
            outDir: dir,
            generator: 'trained',
            backend: 'auto',
          },
        ]),
      );
      const planned = planRuns(EXPERIMENTS, ctx as never, new ResultsStore(dir));
      const order = orderForWorkers(planned, 2);
      expect(order).toHaveLength(planned.length);
      expect(order[0]?.cacheKey).toMatch(/^generator /);
      expect(order[1]?.cacheKey).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the committed table is a measurement for every experiment', () => {
    for (const id of ['e1', 'e2', 'e3', 'e4']) {
      const m = STEP_COSTS.experiments[id];
      expect(m, id).toBeDefined();
      expect(m!.secondsPerCostUnit).toBeCloseTo(m!.wallSeconds / m!.costUnits, 12);
    }
  });

  it('list --profile paper prints the cost table', async () => {
    const o = capture();
    const code = await main(['list', '--profile', 'paper', '--out', '/nonexistent-gcvi-results'], {
      stdout: o.stream,
      stderr: o.stream,
    });
    expect(code, o.text()).toBe(0);
    expect(o.text()).toMatch(/^cost \(estimated from measured step costs: /m);
    expect(o.text()).toMatch(/^\s+e1\s+7 runs\s+2800000 steps\s+\S+ CPU-hours$/m);
    expect(o.text()).toMatch(/^\s+all\s+\d+ runs\s+\d+ steps\s+\S+ CPU-hours$/m);
  });
});
