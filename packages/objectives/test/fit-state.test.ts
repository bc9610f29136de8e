import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusedAdamStep, hasFusedKernel, setSimdEnabled } from '@gcvi/kernels';
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
  adam,
  disposeFitState,
  FIT_STATE_KIND,
  fitStep,
  initFit,
  loadFitState,
  readFitStateInfo,
  fit as runFit,
  type Schedule,
  saveFitState,
  stepDivideLr,
} from '../src/index.js';
import { conjugateProblem, linearParams, linearQ, snapshot } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'gcvi-fit-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setup = (observed: tf.Tensor, seed = 11) =>
  ({
    variational: linearQ,
    objective: 'elbo',
    objectiveOptions: { K: 3 },
    problem: conjugateProblem(observed),
    schedule: stepDivideLr(0.05, 10),
    steps: 40,
    batchSize: 16,
    clipNorm: 10,
    rng: createRng(seed),
  }) as const;

const dispose = (...ps: Record<string, tf.Variable>[]) => {
  for (const p of ps) for (const v of Object.values(p)) v.dispose();
};

describe('initFit → fitStep', () => {
  it('a loop over fitStep is fit: same parameters and history, bit for bit', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const a = linearParams();
    const rA = await runFit({ ...setup(observed), params: a });
    const b = linearParams();
    let s = initFit({ ...setup(observed), params: b });
    expect(s.step).toBe(0);
    expect(s.last).toBeNull();
    while (s.step < s.run.steps) s = fitStep(s);
    expect(await snapshot(b)).toEqual(await snapshot(a));
    expect(s.history).toEqual(rA.history);
    expect(rA.resumedFrom).toBeNull();
    disposeFitState(s);
    dispose(a, b);
    observed.dispose();
  });

  it('each step is a new state with its own counters, stream positions and outcome; old states are refused', () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const p = linearParams();
    const s0 = initFit({ ...setup(observed), params: p });
    const s1 = fitStep(s0);
    const s2 = fitStep(s1);
    expect([s0.step, s1.step, s2.step]).toEqual([0, 1, 2]);
    expect(s1.rng.batch).not.toEqual(s0.rng.batch);
    expect(s2.rng.loss).not.toEqual(s1.rng.loss);
    expect(s0.rng.batch.s).toEqual(createRng(11).split('fit/batch').getState().s);
    expect(s2.last!.lr).toBe(0.05);
    expect(Number.isFinite(s2.last!.loss)).toBe(true);
    expect(() => fitStep(s1)).toThrow(ConfigError);
    expect(() => fitStep(s1)).toThrow(
      /fitStep: this FitState \(step 1\) is not the newest of its run \(that is at step 2\)/,
    );
    expect(() => saveFitState(join(dir, 'stale.gcvi'), s0)).toThrow(/saveFitState: this FitState \(step 0\)/);
    disposeFitState(s2);
    expect(() => fitStep(s2)).toThrow(/its optimizer was disposed/);
    dispose(p);
    observed.dispose();
  });

  it('saveFitState → loadFitState in a "new process" continues bit for bit', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const full = linearParams();
    const rFull = await runFit({ ...setup(observed), params: full });
    const want = await snapshot(full);

    const path = join(dir, 'mid.gcvi');
    const p1 = linearParams();
    let s = initFit({ ...setup(observed), params: p1 });
    while (s.step < 15) s = fitStep(s);
    saveFitState(path, s, { meta: { run: 'abc' } });
    disposeFitState(s);

    const file = readTensorFile(path, { kind: FIT_STATE_KIND });
    expect(Object.keys(file.tensors).sort()).toEqual(
      [
        'history/loss',
        'history/step',
        ...['a', 'b', 'c', 'd'].flatMap((n) => [`optim/m/${n}`, `optim/v/${n}`, `param/${n}`]),
      ].sort(),
    );
    const info = readFitStateInfo(path);
    expect(info.step).toBe(15);
    expect(info.objective).toBe('elbo');
    expect(info.user).toEqual({ run: 'abc' });
    expect(info.optimizer.scalars).toEqual({ t: 15 });

    const p2 = linearParams();
    let r = loadFitState(path, initFit({ ...setup(observed), params: p2 }));
    expect(r.step).toBe(15);
    expect(r.history.step).toEqual(rFull.history.step.slice(0, 15));
    while (r.step < r.run.steps) r = fitStep(r);
    expect(await snapshot(p2)).toEqual(want);
    expect(r.history).toEqual(rFull.history);
    disposeFitState(r);
    dispose(full, p1, p2);
    observed.dispose();
  });

  it('fit reports a resume: onResume(step) before the first step, resumedFrom in the result', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const path = join(dir, 'resume.gcvi');
    const events: string[] = [];
    let crash = true;
    const callbacks = {
      onResume: (step: number) => void events.push(`resume ${step}`),
      onStep: (i: { step: number }) => {
        events.push(`step ${i.step}`);
        if (i.step === 23 && crash) throw new Error('simulated crash');
      },
    };
    const p1 = linearParams();
    await expect(
      runFit({ ...setup(observed), params: p1, checkpoint: { path, every: 10 }, resume: true, callbacks }),
    ).rejects.toThrow('simulated crash');
    expect(events.some((e) => e.startsWith('resume'))).toBe(false);
    events.length = 0;
    crash = false;
    const p2 = linearParams();
    const r = await runFit({
      ...setup(observed),
      params: p2,
      checkpoint: { path, every: 10 },
      resume: true,
      callbacks,
    });
    expect(r.resumedFrom).toBe(20);
    expect(events.slice(0, 2)).toEqual(['resume 20', 'step 21']);
    const p3 = linearParams();
    const again = await runFit({
      ...setup(observed),
      params: p3,
      checkpoint: { path, every: 10 },
      resume: true,
      callbacks,
    });
    expect(again.resumedFrom).toBe(40);
    expect(events.at(-1)).toBe('resume 40');
    dispose(p1, p2, p3);
    observed.dispose();
  });
});

describe('schedules that return no valid learning rate', () => {
  for (const [what, bad] of [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a negative rate', -1e-3],
  ] as const) {
    it(`${what} at step 3 is a ConfigError naming the schedule and the step; parameters stay finite`, async () => {
      const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
      const schedule: Schedule = { description: 'myWarmup(lr=0.01)', lr: (n) => (n === 3 ? bad : 0.01) };
      const p = linearParams();
      const run = runFit({ ...setup(observed), params: p, schedule });
      await expect(run).rejects.toBeInstanceOf(ConfigError);
      await expect(runFit({ ...setup(observed), params: linearParams(), schedule })).rejects.toThrow(
        new RegExp(
          `schedule: myWarmup\\(lr=0\\.01\\) returned learning rate ${String(bad).replace('.', '\\.')} at step 3`,
        ),
      );
      for (const v of Object.values(await snapshot(p))) expect(v.every(Number.isFinite)).toBe(true);
      dispose(p);
      observed.dispose();
    });
  }

  it('a schedule without a description is named "custom schedule"', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const p = linearParams();
    const schedule = { lr: () => Number.NaN } as unknown as Schedule;
    await expect(runFit({ ...setup(observed), params: p, schedule })).rejects.toThrow(
      /schedule: custom schedule returned learning rate NaN at step 0/,
    );
    dispose(p);
    observed.dispose();
  });
});

describe('bad fit-state files', () => {
  it('a damaged file, another kind of tensor file, or other parameters: a FileFormatError naming the file', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const path = join(dir, 'damaged.gcvi');
    const p = linearParams();
    await runFit({ ...setup(observed), params: p, steps: 5, checkpoint: { path, every: 5 } });
    const bytes = readFileSync(path);
    bytes[bytes.length - 9] = (bytes[bytes.length - 9] as number) ^ 0x40;
    writeFileSync(path, bytes);
    const fresh = linearParams();
    await expect(runFit({ ...setup(observed), params: fresh, resumeFrom: path })).rejects.toThrow(
      new RegExp(`${path.replace(/[.]/g, '\\.')}: payload checksum \\(sha256\\) does not match`),
    );
    const weights = join(dir, 'weights.gcvi');
    writeTensorFile(weights, { kind: 'gcvi/encoder', meta: {}, tensors: {} });
    await expect(runFit({ ...setup(observed), params: fresh, resumeFrom: weights })).rejects.toThrow(
      /weights\.gcvi: holds 'gcvi\/encoder', expected 'gcvi\/fit-state'/,
    );
    const other = join(dir, 'other-params.gcvi');
    await runFit({ ...setup(observed), params: p, steps: 2, checkpoint: { path: other, every: 1 } });
    const q = { a: tf.variable(tf.scalar(0), true) };
    await expect(runFit({ ...setup(observed), params: q, resumeFrom: other })).rejects.toBeInstanceOf(
      FileFormatError,
    );
    await expect(runFit({ ...setup(observed), params: q, resumeFrom: other })).rejects.toThrow(
      /other-params\.gcvi: parameters differ from this run's \(missing: none; unexpected: b, c, d\)/,
    );
    dispose(p, fresh, q);
    observed.dispose();
  });
});

describe.each(['cpu', 'wasm'] as const)('one Adam on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });
  afterAll(() => setSimdEnabled(true));

  /** 25 steps of the optimizer on fixed random gradients, a changing rate and clipping scale. */
  function run(fused: boolean) {
    const rng = createRng('adam-equivalence');
    const params = tf.tidy(() => ({
      w: tf.variable(rng.normalTensor([7, 5]), true),
      b: tf.variable(rng.normalTensor([5], 0, 1e-3), true),
      s: tf.variable(tf.scalar(0.25), true),
    }));
    const opt = adam({ fused, beta2: 0.99, eps: 1e-7 });
    opt.init(params);
    for (let t = 0; t < 25; t++) {
      const grads = tf.tidy(() => ({
        w: rng.normalTensor([7, 5], 0, t % 5 === 0 ? 1e-4 : 1),
        b: rng.normalTensor([5], 0, 1e3),
        s: tf.scalar(t % 2 ? -1e-6 : 3),
      }));
      opt.apply(grads, 1 / (1 / 1e-2 + t / 10), t % 3 === 0 ? 0.37 : 1);
      tf.dispose(Object.values(grads));
    }
    const state = opt.getState();
    const out = {
      p: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.from(v.dataSync())])),
      m: Object.fromEntries(Object.entries(state.tensors).map(([k, d]) => [k, Array.from(d.values)])),
      t: state.scalars.t,
    };
    opt.dispose();
    for (const v of Object.values(params)) v.dispose();
    return out;
  }

  it('the fused kernel is registered here', () => {
    expect(hasFusedKernel(FusedAdamStep)).toBe(true);
  });

  it('the plain-tfjs fallback gives exactly the numbers of the fused kernel (SIMD path), bit for bit', () => {
    setSimdEnabled(true);
    const before = tf.memory().numTensors;
    const kernel = run(true);
    const plain = run(false);
    expect(tf.memory().numTensors).toBe(before);
    expect(plain).toEqual(kernel);
    expect(kernel.t).toBe(25);
  });

  it("and agrees with the kernel's scalar path (float64 inside) to float32 rounding (1e-6 · max(1, |x|))", () => {
    setSimdEnabled(false);
    const kernel = run(true);
    setSimdEnabled(true);
    const plain = run(false);
    for (const part of ['p', 'm'] as const) {
      for (const [k, xs] of Object.entries(plain[part])) {
        const ys = kernel[part][k]!;
        xs.forEach((x, i) => {
          expect(Math.abs(x - ys[i]!), `${part} ${k}[${i}]`).toBeLessThanOrEqual(
            1e-6 * Math.max(1, Math.abs(ys[i]!)),
          );
        });
      }
    }
  });

  it('fused: true where the kernel is missing is a ConfigError', () => {
    // Every backend here has the kernel; the check itself is exercised through the option's validation.
    expect(() => adam({ fused: 'yes' as unknown as boolean })).toThrow(/adam\.fused: must be a boolean/);
  });
});
