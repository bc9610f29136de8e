import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type E2Config,
  type E3Config,
  EXPERIMENTS,
  e3Plan,
  e4Plan,
  executeRun,
  planE2,
  ResultsStore,
  resolveGenerator,
} from '@gcvi/experiments';
import { initBackend, readTensorFile } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeE2Step } from '../src/e2.js';
import { runE3Steps } from '../src/e3.js';

/*
 * The bench times the experiments' own steps (issue 16, "Done when"): a run of the E2, E3 and E4
 * experiments through the experiment runner (`executeRun`, the code `reproduce` runs: config
 * validation, the run's streams, the generator, the checkpoint) and the bench's step on the same
 * config and seed end in the same parameters and losses, bit for bit (same code, same backend).
 * The experiment side is read back from the run's fit-state checkpoint (`param/<name>`,
 * `history/loss`), written after the last step.
 */

function checkpoint(path: string): { params: Record<string, Float32Array>; losses: number[] } {
  const file = readTensorFile(path);
  const params: Record<string, Float32Array> = {};
  let losses: number[] = [];
  for (const [name, t] of Object.entries(file.tensors)) {
    if (name.startsWith('param/')) params[name.slice('param/'.length)] = t.values as Float32Array;
    if (name === 'history/loss') losses = Array.from(t.values);
  }
  return { params, losses };
}

function expectSameParams(bench: Record<string, Float32Array>, run: Record<string, Float32Array>) {
  expect(Object.keys(bench).sort()).toEqual(Object.keys(run).sort());
  for (const [name, v] of Object.entries(run)) {
    const b = bench[name] as Float32Array;
    expect(b.length, name).toBe(v.length);
    let differ = 0;
    for (let i = 0; i < v.length; i++) if (!Object.is(b[i], v[i])) differ++;
    expect(differ, `${name}: entries that differ`).toBe(0);
  }
}

describe('the bench steps are the experiments’ steps (wasm)', () => {
  let root: string;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    root = mkdtempSync(join(tmpdir(), 'gcvi-bench-same-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function runExperiment(experiment: string, id: string, config: unknown, file: string) {
    const out = await executeRun(EXPERIMENTS, {
      experiment,
      id,
      config,
      storeRoot: root,
      label: id,
    });
    expect(out.error).toBeUndefined();
    expect(out.mode).toBe('fresh');
    return checkpoint(join(root, 'runs', experiment, id, file));
  }

  it.each(['forward-kl', 'elbo'] as const)(
    'E2 %s: two steps of the experiment run equal two bench steps (losses and parameters)',
    async (objective) => {
      const base = planE2('quick').find((c) => c.objective === objective && c.parameterization === 'mean');
      const config: E2Config = { ...(base as E2Config), steps: 2, checkpointEvery: 1 };
      const run = await runExperiment('e2', `same-e2-${objective}`, config, 'fit-state.bin');
      const before = tf.memory().numTensors;
      const bench = makeE2Step(config);
      const losses = [bench.step(0), bench.step(1)];
      const params = Object.fromEntries(
        Object.entries(bench.params()).map(([k, v]) => [k, v.dataSync() as Float32Array]),
      );
      bench.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses).toEqual(run.losses);
      expectSameParams(params, run.params);
    },
  );

  /**
   * Two steps of the experiment's own run equal the bench's steps on the same config (losses and
   * parameters bit for bit), with the generator the run used (trained once by the first E3/E4 run,
   * cached in the store) and no tensor left behind by the bench.
   */
  async function expectBenchEqualsRun(
    experiment: 'e3' | 'e4',
    kind: Parameters<typeof runE3Steps>[0],
    config: Parameters<typeof runE3Steps>[1] & { generator: E3Config['generator'] },
  ): Promise<void> {
    const run = await runExperiment(experiment, `same-${kind}`, config, 'checkpoint.bin');
    const store = new ResultsStore(root);
    const gen = await resolveGenerator(
      config.generator,
      join(root, 'cache', 'generator'),
      store.cacheLock(30_000),
    );
    const before = tf.memory().numTensors;
    const bench = await runE3Steps(kind, config, gen.params, 0, true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(gen.params));
    expect(bench.losses.every(Number.isFinite)).toBe(true);
    expect(bench.losses).toEqual(run.losses);
    expectSameParams(bench.params as Record<string, Float32Array>, run.params);
  }

  it.each([
    ['e3-lp', 'forwardKl'],
    ['e3-iwbo', 'iwbo'],
  ] as const)('E3 %s: two steps of the experiment run equal the bench step', async (kind, method) => {
    const base = e3Plan('quick').find((c) => c.method === method && c.initDeg > 0) as E3Config;
    // averageFrom 1: the run also keeps its tail mean (quick's averages the last third), which
    // must leave the live parameters those of the bench step
    const config = { ...base, steps: 2, evalEvery: 1, checkpointEvery: 1, averageFrom: 1 };
    await expectBenchEqualsRun('e3', kind, config);
  });

  it.each([
    ['e4-lp', 'forwardKl'],
    ['e4-elbo', 'elbo'],
  ] as const)('E4 %s: two steps of the experiment run equal the bench step', async (kind, method) => {
    const base = e4Plan('quick').find((c) => c.method === method);
    const config = {
      ...(base as NonNullable<typeof base>),
      steps: 2,
      evalEvery: 1,
      checkpointEvery: 1,
      averageFrom: 1,
    };
    await expectBenchEqualsRun('e4', kind, config);
  });
});
