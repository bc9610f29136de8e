import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSbibmData } from '@gcvi/datasets';
import { afterAll, describe, expect, it } from 'vitest';
import { configFrom, program } from '../src/cli.js';
import { PROFILES, parseConfig } from '../src/config.js';
import { csvOf, tableOf } from '../src/report.js';
import { cellsOf, dataRoot, readCells, runCell } from '../src/run.js';

// The reference samples live in ../shared/fixtures/sbibm beside the checkout (never copied into the
// repo). Outside CI the runner test is skipped when they are absent; in CI their absence is a failure.
const haveData = findSbibmData() !== null || process.env.CI === 'true';

const out = mkdtempSync(join(tmpdir(), 'gcvi-sbibm-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const run = (...args: string[]) =>
  program()
    .exitOverride()
    .parseAsync(['node', 'gcvi-sbibm', 'run', ...args], { from: 'node' });

describe.skipIf(!haveData)(
  'sbibm runner, quick profile (two_moons, 10³ simulations, observation 1, the flow)',
  () => {
    it('trains, draws, runs C2ST against the reference samples and writes c2st.csv and table.md; a finished cell is not redone', async () => {
      await run('--profile', 'quick', '--out', out);
      const csv = readFileSync(join(out, 'c2st.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('task,budget,family,observation,c2st,train_seconds,wall_seconds,seed');
      expect(csv).toHaveLength(2);
      const [task, budget, family, obs, acc, train, wall, seed] = csv[1]!.split(',');
      expect([task, budget, family, obs, seed]).toEqual(['two_moons', '1000', 'flow', '1', '0']);
      console.log('quick profile C2ST', acc, 'train s', train, 'wall s', wall);
      // A trained flow is told apart from the reference less than perfectly (an untrained one, or
      // samples off the crescents, give ≈ 1).
      expect(Number(acc)).toBeGreaterThan(0.4);
      expect(Number(acc)).toBeLessThan(0.99);
      expect(Number(wall)).toBeGreaterThanOrEqual(Number(train));
      const md = readFileSync(join(out, 'table.md'), 'utf8');
      expect(md).toContain('| two_moons | sbi NPE (NSF), obs 1–10 | 0.725 | 0.606 | 0.542 |');
      expect(md).toContain('| two_moons | sbi NPE (NSF), obs 1–5 | 0.697 | 0.604 | 0.526 |');
      expect(md).toMatch(/\| two_moons \| gcvi flow \(NSF\) \| \*\*0\.\d{3}\*\* \(obs 1; /);
      expect(md).toContain('not run');
      const cell = join(out, 'cells', 'two_moons_1000_flow.json');
      const before = statSync(cell).mtimeMs;
      await run('--profile', 'quick', '--out', out);
      expect(statSync(cell).mtimeMs).toBe(before);
    }, 900_000);

    it('bad input: one clear error naming the flag or folder', async () => {
      await expect(run('--profile', 'quick', '--out', out, '--data', join(out, 'nope'))).rejects.toThrow(
        /nope.*sbibm reference data folder not found \(--data\)/,
      );
      expect(() => configFrom({ profile: 'fast' })).toThrow(/--profile: unknown profile 'fast'/);
      await expect(run('--profile', 'quick', '--out', out, '--threads', '0')).rejects.toThrow(
        /--threads: must be a whole number ≥ 1 \(got '0'\)/,
      );
      await expect(run('--profile', 'quick', '--out', out, '--seeds', '0,-1')).rejects.toThrow(
        /--seeds: each seed must be a whole number ≥ 0 \(got '-1'\)/,
      );
      await expect(run('--profile', 'quick', '--out', out, '--seeds', '1,x')).rejects.toThrow(
        /--seeds: each seed must be a whole number ≥ 0 \(got 'x'\)/,
      );
      expect(() => configFrom({ profile: 'quick', seeds: [2, 2] })).toThrow(/seeds: each seed at most once/);
      expect(() => configFrom({ profile: 'quick', budgets: [1000, Number.NaN] })).toThrow(/budgets\.1/);
      expect(() => configFrom({ profile: 'quick', tasks: ['gauss'] })).toThrow(/tasks\.0/);
      expect(() => configFrom({ profile: 'quick', budgets: [5000] })).toThrow(/training\.protocols\.5000/);
      // a budget whose protocols all name other families: refused before any cell runs
      expect(() =>
        parseConfig({
          ...PROFILES.quick,
          training: {
            ...PROFILES.quick.training,
            protocols: { '1000': [{ batchSize: 100, maxEpochs: 3, families: ['gaussian'] }] },
          },
        }),
      ).toThrow(/training\.protocols\.1000: no training protocol for the flow family at budget 1000/);
    });
  },
);

describe.skipIf(!haveData)('training protocols (two tried per cell, kept by validation NLL)', () => {
  it('trains each protocol from the same seed and keeps the one with the lowest validation NLL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-sbibm-protocols-'));
    try {
      const config = parseConfig({
        ...PROFILES.quick,
        out: dir,
        samples: 200,
        c2st: { folds: 2, maxEpochs: 5 },
        training: {
          ...PROFILES.quick.training,
          protocols: {
            '1000': [
              { batchSize: 100, maxEpochs: 3 },
              { batchSize: 'full', maxEpochs: 3 },
            ],
          },
        },
      });
      const { result } = await runCell(config, dataRoot(config), 'two_moons', 1000, 'flow');
      const tried = result.candidates ?? [];
      expect(tried.map((c) => c.batchSize)).toEqual([100, 'full']);
      // 900 training simulations: 9 steps per epoch at 100, one at full batch
      expect(tried.map((c) => c.steps)).toEqual([27, 3]);
      const best = tried.reduce((a, b) => (b.bestValidationLoss < a.bestValidationLoss ? b : a));
      expect(result.batchSize).toBe(best.batchSize);
      expect(result.bestValidationLoss).toBe(best.bestValidationLoss);
      expect(result.trainSeconds).toBeCloseTo(tried[0]!.trainSeconds + tried[1]!.trainSeconds, 6);
      expect(readFileSync(join(dir, 'cells', 'two_moons_1000_flow.gcvi')).length).toBeGreaterThan(100);
      expect(result.protocols).toEqual([
        { batchSize: 100, maxEpochs: 3 },
        { batchSize: 'full', maxEpochs: 3 },
      ]);
      // the same config: the finished cell is skipped
      expect((await runCell(config, dataRoot(config), 'two_moons', 1000, 'flow')).skipped).toBe(true);
      // other protocols: the cell is refused, not reused as if it were current, and left as it was
      const cellFile = join(dir, 'cells', 'two_moons_1000_flow.json');
      const text = readFileSync(cellFile, 'utf8');
      const other = parseConfig({
        ...config,
        training: { ...config.training, protocols: { '1000': [{ batchSize: 100, maxEpochs: 4 }] } },
      });
      await expect(runCell(other, dataRoot(other), 'two_moons', 1000, 'flow')).rejects.toThrow(
        /two_moons_1000_flow\.json: was trained with batch 100 ≤ 3 epochs, batch full ≤ 3 epochs; this config trains batch 100 ≤ 4 epochs\. Delete it/,
      );
      expect(readFileSync(cellFile, 'utf8')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

describe.skipIf(!haveData)('training seeds (each trains the cell anew; the table averages them)', () => {
  it('runs one cell per seed, in its own files, and the table shows the mean over seeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-sbibm-seeds-'));
    try {
      const config = parseConfig({
        ...PROFILES.quick,
        out: dir,
        samples: 200,
        seeds: [0, 3],
        c2st: { folds: 2, maxEpochs: 5 },
        training: { ...PROFILES.quick.training, protocols: { '1000': [{ batchSize: 100, maxEpochs: 2 }] } },
      });
      const cells = cellsOf(config);
      expect(cells.map((c) => c.seed)).toEqual([0, 3]);
      for (const c of cells) await runCell(config, dataRoot(config), c.task, c.budget, c.family, {}, c.seed);
      const results = readCells(dir);
      expect(results.map((c) => c.seed)).toEqual([0, 3]);
      expect(statSync(join(dir, 'cells', 'two_moons_1000_flow.json')).isFile()).toBe(true);
      expect(statSync(join(dir, 'cells', 'two_moons_1000_flow_seed3.json')).isFile()).toBe(true);
      // different simulations and initialization: different training
      expect(results[0]!.bestValidationLoss).not.toBe(results[1]!.bestValidationLoss);
      const [a, b] = results.map((c) => c.observations[0]!.c2st);
      const md = tableOf(results);
      const lo = Math.min(a!, b!).toFixed(3);
      const hi = Math.max(a!, b!).toFixed(3);
      expect(md).toContain(
        `**${((a! + b!) / 2).toFixed(3)}** (2 seeds: 0, 3; obs 1; seed means ${lo}–${hi};`,
      );
      const rows = csvOf(results).trim().split('\n').slice(1);
      expect(rows.map((r) => r.split(',').at(-1))).toEqual(['0', '3']);
      // a cell file whose seed is not its name's is refused, not overwritten
      const bad = join(dir, 'cells', 'two_moons_1000_flow_seed3.json');
      const text = readFileSync(bad, 'utf8');
      writeFileSync(bad, text.replace('"seed": 3', '"seed": 4'));
      await expect(
        runCell({ ...config, observations: [2] }, dataRoot(config), 'two_moons', 1000, 'flow', {}, 3),
      ).rejects.toThrow(/two_moons_1000_flow_seed3\.json.*trained with seed 4, not 3/);
      expect(readFileSync(bad, 'utf8')).toBe(text.replace('"seed": 3', '"seed": 4'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
