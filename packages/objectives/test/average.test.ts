import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  createRng,
  FileFormatError,
  initBackend,
  readTensorFile,
  writeTensorFile,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  disposeFitState,
  FIT_STATE_KIND,
  fitStep,
  initFit,
  loadFitState,
  readFitStateInfo,
  fit as runFit,
  saveFitState,
} from '../src/index.js';
import { conjugateProblem, linearParams, linearQ, snapshot } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'gcvi-average-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STEPS = 40;
const setup = (observed: tf.Tensor, average?: { from: number }) =>
  ({
    variational: linearQ,
    objective: 'elbo',
    objectiveOptions: { K: 3 },
    problem: conjugateProblem(observed),
    steps: STEPS,
    batchSize: 16,
    clipNorm: 10,
    rng: createRng(5),
    ...(average ? { average } : {}),
  }) as const;

const disposeAll = (...ps: (Record<string, tf.Variable> | null)[]) => {
  for (const p of ps) if (p) for (const v of Object.values(p)) v.dispose();
};

describe('tail averaging (FitSetup.average)', () => {
  it('is the mean of the iterates after steps from+1 … steps: against a float64 mean of snapshots (1e-6)', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const from = 25;
    const p = linearParams();
    let s = initFit({ ...setup(observed, { from }), params: p });
    const sums: Record<string, Float64Array> = {};
    while (s.step < STEPS) {
      s = fitStep(s);
      if (s.step > from) {
        for (const [n, v] of Object.entries(await snapshot(p))) {
          if (!sums[n]) sums[n] = new Float64Array(v.length);
          const acc = sums[n]!;
          for (let i = 0; i < v.length; i++) acc[i]! += v[i]!;
        }
      }
    }
    const mean = s.run.average!.vars;
    for (const n of Object.keys(p)) {
      const got = (await mean[n]!.data()) as Float32Array;
      const want = Array.from(sums[n]!, (x) => x / (STEPS - from));
      for (let i = 0; i < got.length; i++) {
        expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want[i]!)));
      }
      // The parameters moved over the tail, so the mean is not the last iterate.
      expect(Array.from(got)).not.toEqual(Array.from((await snapshot(p))[n]!));
    }
    disposeFitState(s);
    disposeAll(p);
    observed.dispose();
  });

  it('from = steps − 1 averages the last iterate alone: fit returns it exactly, as caller-owned variables', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    // What a run without averaging leaves behind (the problem's own constants) is the baseline.
    let before = tf.memory().numTensors;
    const noAvg = linearParams();
    expect((await runFit({ ...setup(observed), params: noAvg })).averaged).toBeNull();
    disposeAll(noAvg);
    const baseline = tf.memory().numTensors - before;
    before = tf.memory().numTensors;
    const p = linearParams();
    const r = await runFit({ ...setup(observed, { from: STEPS - 1 }), params: p });
    expect(r.averaged).not.toBeNull();
    expect(await snapshot(r.averaged!)).toEqual(await snapshot(p));
    for (const v of Object.values(r.averaged!)) expect(v.trainable).toBe(false);
    disposeAll(p, r.averaged);
    // Nothing more is left: the run's own mean was disposed, the copies are the caller's.
    expect(tf.memory().numTensors - before).toBe(baseline);
    observed.dispose();
  });

  it('is saved and resumed bit for bit (checkpoint inside the averaged tail)', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const from = 20;
    const full = linearParams();
    const rFull = await runFit({ ...setup(observed, { from }), params: full });
    const want = await snapshot(rFull.averaged!);

    const path = join(dir, 'tail.gcvi');
    const p1 = linearParams();
    let s = initFit({ ...setup(observed, { from }), params: p1 });
    while (s.step < 31) s = fitStep(s);
    saveFitState(path, s);
    disposeFitState(s);
    expect(readFitStateInfo(path).averageFrom).toBe(from);
    const names = Object.keys(readTensorFile(path, { kind: FIT_STATE_KIND }).tensors);
    expect(names.filter((k) => k.startsWith('average/')).sort()).toEqual(
      ['a', 'b', 'c', 'd'].map((n) => `average/${n}`),
    );

    const p2 = linearParams();
    const r = await runFit({
      ...setup(observed, { from }),
      params: p2,
      resumeFrom: path,
    });
    expect(r.resumedFrom).toBe(31);
    expect(await snapshot(r.averaged!)).toEqual(want);
    expect(await snapshot(p2)).toEqual(await snapshot(full));
    disposeAll(full, p1, p2, rFull.averaged, r.averaged);
    observed.dispose();
  });

  it('a saved state of another averaging setup is a FileFormatError naming the file and both setups', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const plain = join(dir, 'plain.gcvi');
    const p1 = linearParams();
    let s = initFit({ ...setup(observed), params: p1 });
    s = fitStep(s);
    saveFitState(plain, s);
    disposeFitState(s);
    for (const [path, other, says] of [
      [plain, { from: 10 }, /plain\.gcvi.*no tail average, this run has average\.from 10/],
    ] as const) {
      const p = linearParams();
      const init = initFit({ ...setup(observed, other), params: p });
      expect(() => loadFitState(path, init)).toThrow(FileFormatError);
      expect(() => loadFitState(path, init)).toThrow(says);
      disposeFitState(init);
      disposeAll(p);
    }
    const avg = join(dir, 'avg10.gcvi');
    const p2 = linearParams();
    let t = initFit({ ...setup(observed, { from: 10 }), params: p2 });
    t = fitStep(t);
    saveFitState(avg, t);
    disposeFitState(t);
    for (const other of [undefined, { from: 12 }]) {
      const p = linearParams();
      const init = initFit({ ...setup(observed, other), params: p });
      expect(() => loadFitState(avg, init)).toThrow(
        other
          ? /average\.from 10, this run has average\.from 12/
          : /average\.from 10, this run has no tail average/,
      );
      disposeFitState(init);
      disposeAll(p);
    }
    disposeAll(p1, p2);
    observed.dispose();
  });

  it('a saved state whose tail mean is missing or of the wrong shape is a FileFormatError naming the tensor', () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const good = join(dir, 'avg-good.gcvi');
    const p1 = linearParams();
    let s = initFit({ ...setup(observed, { from: 2 }), params: p1 });
    while (s.step < 5) s = fitStep(s);
    saveFitState(good, s);
    disposeFitState(s);
    const file = readTensorFile(good, { kind: FIT_STATE_KIND });
    const { 'average/a': a, ...withoutA } = file.tensors;
    expect(a).toBeDefined();
    const missing = join(dir, 'avg-missing.gcvi');
    writeTensorFile(missing, { ...file, tensors: withoutA });
    const reshaped = join(dir, 'avg-reshaped.gcvi');
    writeTensorFile(reshaped, {
      ...file,
      tensors: { ...file.tensors, 'average/a': { ...a!, shape: [1, ...a!.shape] } },
    });
    for (const path of [missing, reshaped]) {
      const p = linearParams();
      const init = initFit({ ...setup(observed, { from: 2 }), params: p });
      expect(() => loadFitState(path, init)).toThrow(FileFormatError);
      expect(() => loadFitState(path, init)).toThrow(/average\/a missing or not float32/);
      disposeFitState(init);
      disposeAll(p);
    }
    // the intact file still loads
    const p2 = linearParams();
    const init = initFit({ ...setup(observed, { from: 2 }), params: p2 });
    const loaded = loadFitState(good, init);
    expect(loaded.step).toBe(5);
    disposeFitState(loaded);
    disposeAll(p1, p2);
    observed.dispose();
  });

  it('an average that is not an object { from } is one ConfigError naming average', () => {
    const observed = createRng('data').normalTensor([8, 1]);
    for (const average of [null, 5, [3], 'from']) {
      const p = linearParams();
      const bad = { ...setup(observed), average } as unknown as Parameters<typeof initFit>[0];
      expect(() => initFit({ ...bad, params: p })).toThrow(ConfigError);
      expect(() => initFit({ ...bad, params: p })).toThrow(/^average: must be an object \{ from \}/);
      disposeAll(p);
    }
    observed.dispose();
  });

  it('a bad average.from is one ConfigError naming the field', () => {
    const observed = createRng('data').normalTensor([8, 1]);
    for (const from of [-1, STEPS, STEPS + 5, 1.5, Number.NaN, '3' as unknown as number]) {
      const p = linearParams();
      expect(() => initFit({ ...setup(observed, { from }), params: p })).toThrow(ConfigError);
      expect(() => initFit({ ...setup(observed, { from }), params: p })).toThrow(/average\.from/);
      disposeAll(p);
    }
    observed.dispose();
  });
});
