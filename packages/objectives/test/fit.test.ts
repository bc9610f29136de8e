import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OBJECTIVE_CONTRACT_VERSION, type Objective } from '@gcvi/objective-contract';
import { createRng, initBackend, NumericalError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adam,
  constantLr,
  disposeFitState,
  fitStep,
  initFit,
  readCheckpoint,
  fit as runFit,
  sgd,
  stepDivideLr,
} from '../src/index.js';
import { conjugateProblem, linearParams, linearQ, snapshot } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'gcvi-fit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A deterministic test objective: loss = Σ c·p + ½ Σ p² (per parameter `p`), times a flag that the
 * batch makes NaN at chosen steps. Its gradient is c + p, so every update can be recomputed in JS.
 */
function quadratic(c: number, nanSteps: readonly number[] = []): Objective<Record<string, never>> {
  return {
    name: 'quadratic',
    contractVersion: OBJECTIVE_CONTRACT_VERSION,
    requires: [],
    description: 'test quadratic',
    defaults: {},
    parseOptions: () => ({}),
    sampleBatch: ({ step }) => ({ flag: tf.scalar(nanSteps.includes(step) ? Number.NaN : 1) }),
    loss: ({ batch, q }) =>
      tf.tidy(() => {
        const p = (q(tf.zeros([1, 1])) as unknown as { p: tf.Tensor }).p;
        const l = tf.add(tf.sum(tf.mul(c, p)), tf.mul(0.5, tf.sum(tf.square(p))));
        return tf.mul(l, batch.flag as tf.Scalar) as tf.Scalar;
      }),
  };
}
const quadQ = (params: Readonly<Record<string, tf.Variable>>) =>
  ({ p: params.p, batchShape: [], eventShape: [] }) as never;

/**
 * Adam in float64, PyTorch's formula, one step per rate in `lrs`; a step index in `skip` leaves
 * the parameters, the moments and Adam's count alone (as a non-finite step does). Returns the
 * parameters after each step.
 */
function adamTrajectory(
  p0: number[],
  grad: (p: number[]) => number[],
  lrs: number[],
  skip: readonly number[] = [],
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
): number[][] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  let t = 0;
  const after: number[][] = [];
  lrs.forEach((lr, n) => {
    if (!skip.includes(n)) {
      t++;
      const g = grad(p);
      for (let j = 0; j < p.length; j++) {
        m[j] = b1 * m[j]! + (1 - b1) * g[j]!;
        v[j] = b2 * v[j]! + (1 - b2) * g[j]! ** 2;
        p[j] = p[j]! - (lr * (m[j]! / (1 - b1 ** t))) / (Math.sqrt(v[j]! / (1 - b2 ** t)) + eps);
      }
    }
    after.push([...p]);
  });
  return after;
}
const adamRef = (p0: number[], grad: (p: number[]) => number[], lrs: number[]) =>
  adamTrajectory(p0, grad, lrs).at(-1)!;

describe('adam', () => {
  it('matches a float64 reference Adam over 30 steps of a step-divide schedule (abs 1e-5)', async () => {
    const p0 = [0.5, -1.5, 2];
    const params = { p: tf.variable(tf.tensor1d(p0), true) };
    const schedule = stepDivideLr(0.1, 10);
    await runFit({
      params,
      variational: quadQ,
      objective: quadratic(0.7),
      problem: {},
      optimizer: adam(),
      schedule,
      steps: 30,
      batchSize: 1,
      rng: createRng(1),
    });
    const lrs = Array.from({ length: 30 }, (_, n) => schedule.lr(n));
    const ref = adamRef(p0, (p) => p.map((x) => 0.7 + x), lrs);
    const got = Array.from(await params.p.data());
    got.forEach((g, i) => {
      expect(Math.abs(g - ref[i]!)).toBeLessThan(1e-5);
    });
    params.p.dispose();
  });

  it('clipNorm rescales the gradient to the given global norm (visible through a large eps)', async () => {
    // Gradient at p = 0 is c = (3, 4) over two parameters: norm 5. Clip to 0.5 → g' = (0.3, 0.4).
    // First Adam step: p1 = −lr · g' / (|g'| + eps) with eps = 1.
    const params = { p: tf.variable(tf.tensor1d([0, 0]), true) };
    const obj = quadratic(0);
    const lin: Objective<Record<string, never>> = {
      ...obj,
      loss: ({ q }) =>
        tf.tidy(() => {
          const p = (q(tf.zeros([1, 1])) as unknown as { p: tf.Tensor }).p;
          return tf.sum(tf.mul(tf.tensor1d([3, 4]), p)) as tf.Scalar;
        }),
    };
    const seen: number[] = [];
    await runFit({
      params,
      variational: quadQ,
      objective: lin,
      problem: {},
      optimizer: adam({ eps: 1 }),
      schedule: constantLr(0.1),
      steps: 1,
      batchSize: 1,
      rng: createRng(1),
      clipNorm: 0.5,
      callbacks: { onStep: (i) => void seen.push(i.gradNorm) },
    });
    const got = Array.from(await params.p.data());
    expect(seen[0]).toBeCloseTo(5, 5);
    expect(got[0]).toBeCloseTo((-0.1 * 0.3) / 1.3, 6);
    expect(got[1]).toBeCloseTo((-0.1 * 0.4) / 1.4, 6);
    params.p.dispose();
  });
});

describe('sgd', () => {
  it('plain and momentum SGD match float64 references over 20 steps (abs 1e-5)', async () => {
    for (const momentum of [0, 0.9]) {
      const p0 = [0.5, -1.5, 2];
      const params = { p: tf.variable(tf.tensor1d(p0), true) };
      await runFit({
        params,
        variational: quadQ,
        objective: quadratic(0.7),
        problem: {},
        optimizer: sgd({ momentum }),
        schedule: constantLr(0.05),
        steps: 20,
        batchSize: 1,
        rng: createRng(1),
      });
      const p = [...p0];
      const b = [0, 0, 0];
      for (let t = 1; t <= 20; t++) {
        for (let j = 0; j < 3; j++) {
          const g = 0.7 + p[j]!;
          b[j] = t === 1 || momentum === 0 ? g : momentum * b[j]! + g;
          p[j] = p[j]! - 0.05 * b[j]!;
        }
      }
      const got = Array.from(await params.p.data());
      got.forEach((g, i) => {
        expect(Math.abs(g - p[i]!), `momentum ${momentum}, component ${i}`).toBeLessThan(1e-5);
      });
      params.p.dispose();
    }
  });
});

describe('gradient norm', () => {
  for (const size of [3, 70_000]) {
    it(`is ‖c + p0‖ at the first step (${size} parameters: ${size <= 65_536 ? 'summed on the host' : 'tfjs ops'}; rel 1e-5)`, async () => {
      const p0 = createRng(size).fillNormal(new Float32Array(size), 0, 1);
      const params = { p: tf.variable(tf.tensor1d(p0), true) };
      const seen: number[] = [];
      await runFit({
        params,
        variational: quadQ,
        objective: quadratic(0.7),
        problem: {},
        schedule: constantLr(1e-3),
        steps: 1,
        batchSize: 1,
        rng: createRng(1),
        callbacks: { onStep: (i) => void seen.push(i.gradNorm) },
      });
      let want = 0;
      for (const v of p0) want += (0.7 + v) ** 2;
      want = Math.sqrt(want);
      expect(Math.abs(seen[0]! - want) / want).toBeLessThan(1e-5);
      params.p.dispose();
    });
  }
});

describe('non-finite steps', () => {
  it('are skipped without touching parameters or optimizer state, and counted', async () => {
    const run = async (steps: number, nanSteps: number[]) => {
      const params = { p: tf.variable(tf.tensor1d([0.5, -1]), true) };
      const trace: Array<{ skipped: boolean; p: number[] }> = [];
      const r = await runFit({
        params,
        variational: quadQ,
        objective: quadratic(0.3, nanSteps),
        problem: {},
        schedule: constantLr(0.05),
        steps,
        batchSize: 1,
        rng: createRng(2),
        callbacks: {
          onStep: async (i) => void trace.push({ skipped: i.skipped, p: Array.from(await params.p.data()) }),
        },
      });
      const final = Array.from(await params.p.data());
      params.p.dispose();
      return { r, trace, final };
    };
    const a = await run(12, [3, 4, 9]);
    const b = await run(9, []);
    expect(a.r.skippedSteps).toBe(3);
    expect(a.r.stepsDone).toBe(12);
    expect(a.trace.map((t) => t.skipped)).toEqual([
      false,
      false,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
    ]);
    expect(a.trace[3]!.p).toEqual(a.trace[2]!.p);
    expect(a.trace[4]!.p).toEqual(a.trace[2]!.p);
    // The loss here ignores the batch, so skipping must be invisible: same result as 9 clean steps.
    expect(a.final).toEqual(b.final);
    expect(Number.isNaN(a.r.history.loss[3]!)).toBe(true);
  });

  it('too many in a row stop the run with a NumericalError', async () => {
    const params = { p: tf.variable(tf.tensor1d([0.5]), true) };
    const bad = Array.from({ length: 100 }, (_, i) => i + 5);
    const p = runFit({
      params,
      variational: quadQ,
      objective: quadratic(0.3, bad),
      problem: {},
      steps: 200,
      batchSize: 1,
      rng: createRng(3),
      maxNonFiniteInARow: 7,
    });
    await expect(p).rejects.toBeInstanceOf(NumericalError);
    await expect(p).rejects.toThrow(/7 consecutive steps \(6\.\.12\) had a non-finite loss/);
    params.p.dispose();
  });
});

/** The float64 trajectory of `quadratic(c, nanSteps)` under Adam at a constant rate. */
const adamSkipRef = (p0: number[], c: number, lr: number, steps: number, nanSteps: readonly number[]) =>
  adamTrajectory(
    p0,
    (p) => p.map((x) => c + x),
    Array.from({ length: steps }, () => lr),
    nanSteps,
  );
const meanOf = (rows: number[][]) =>
  rows[0]!.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);

describe('tail averaging with non-finite steps', () => {
  const p0 = [0.5, -1];
  // 12 steps of the quadratic at a constant 0.05, NaN at the given step indices, mean over 7 … 12
  const tailSetup = (params: { p: tf.Variable }, nan: number[]) => ({
    params,
    variational: quadQ,
    objective: quadratic(0.3, nan),
    problem: {},
    schedule: constantLr(0.05),
    steps: 12,
    batchSize: 1,
    rng: createRng(2),
    average: { from: 6 },
  });
  it('a skipped step inside the tail counts with the unchanged parameters: against a float64 Adam (abs 1e-5, as the Adam reference above)', async () => {
    const nan = [7, 8]; // 0-based step indices: the states of steps 8 and 9 keep step 7's parameters
    const params = { p: tf.variable(tf.tensor1d(p0), true) };
    const r = await runFit(tailSetup(params, nan));
    expect(r.skippedSteps).toBe(2);
    const after = adamSkipRef(p0, 0.3, 0.05, 12, nan);
    const want = meanOf(after.slice(6)); // steps 7 … 12
    const got = Array.from(await r.averaged!.p!.data());
    for (let j = 0; j < 2; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-5);
    // not the mean without the skipped steps' terms
    const withoutSkipped = meanOf(after.slice(6).filter((_, i) => i !== 2 && i !== 3));
    expect(Math.abs(got[0]! - withoutSkipped[0]!)).toBeGreaterThan(1e-3);
    params.p.dispose();
    r.averaged!.p!.dispose();
  });

  it('a NumericalError leaves the tail mean at the last good state (the throwing step is not taken in)', async () => {
    const nan = [8, 9, 10]; // with 2 allowed in a row, the step of index 9 (state 10) throws
    const params = { p: tf.variable(tf.tensor1d(p0), true) };
    let s = initFit({ ...tailSetup(params, nan), maxNonFiniteInARow: 2 });
    while (s.step < 9) s = fitStep(s);
    expect(() => fitStep(s)).toThrow(NumericalError);
    expect(s.step).toBe(9);
    const want = meanOf(adamSkipRef(p0, 0.3, 0.05, 12, nan).slice(6, 9)); // steps 7, 8, 9
    const got = Array.from(await s.run.average!.vars.p!.data());
    for (let j = 0; j < 2; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-5);
    disposeFitState(s);
    params.p.dispose();
  });
});

describe('fit', () => {
  it('validates its options with messages that name the field', async () => {
    const params = linearParams();
    const base = {
      params,
      variational: linearQ,
      objective: 'forward-kl',
      problem: conjugateProblem(),
      steps: 5,
      batchSize: 4,
      rng: createRng(1),
    };
    await expect(runFit({ ...base, steps: 0 })).rejects.toThrow(/steps: must be a positive integer/);
    await expect(runFit({ ...base, objective: 'nope' })).rejects.toThrow(
      /unknown objective 'nope'; registered: elbo, forward-kl, iwbo/,
    );
    await expect(runFit({ ...base, params: { a: tf.scalar(1) as never } })).rejects.toThrow(
      /params\.a: must be a tf\.Variable/,
    );
    await expect(runFit({ ...base, objectiveOptions: { batchsize: 3 } })).rejects.toThrow(
      /forward-kl\.options\.batchsize: unknown option/,
    );
    await expect(runFit({ ...base, objective: 'elbo' })).rejects.toThrow(
      /problem\.observed: objective 'elbo' requires/,
    );
    for (const v of Object.values(params)) v.dispose();
  });

  it('reports progress and runs `every` callbacks on schedule', async () => {
    const params = linearParams();
    const progress: number[] = [];
    const every: number[] = [];
    let eta = Number.NaN;
    const r = await runFit({
      params,
      variational: linearQ,
      objective: 'forward-kl',
      problem: conjugateProblem(),
      steps: 25,
      batchSize: 8,
      rng: createRng(4),
      historyEvery: 5,
      callbacks: {
        progressEvery: 10,
        onProgress: (p) => {
          progress.push(p.step);
          eta = p.etaSeconds;
          expect(p.rate).toBeGreaterThan(0);
        },
        every: [{ every: 10, atStart: true, fn: (i) => void every.push(i.step) }],
      },
    });
    expect(progress).toEqual([10, 20, 25]);
    expect(eta).toBe(0);
    expect(every).toEqual([0, 10, 20]);
    expect(r.history.step).toEqual([5, 10, 15, 20, 25]);
    expect(r.history.loss.every(Number.isFinite)).toBe(true);
    for (const v of Object.values(params)) v.dispose();
  });

  it('an interrupted run resumed from its last checkpoint ends bit-for-bit where an uninterrupted one does', async () => {
    const observed = createRng('data').normalTensor([64, 1], 0, Math.SQRT2);
    const problem = conjugateProblem(observed);
    const common = {
      variational: linearQ,
      objective: 'elbo',
      objectiveOptions: { K: 3 },
      problem,
      schedule: stepDivideLr(0.05, 10),
      steps: 40,
      batchSize: 16,
      clipNorm: 10,
    } as const;
    const full = linearParams();
    const rFull = await runFit({
      ...common,
      params: full,
      rng: createRng(5),
      checkpoint: { path: join(dir, 'full.ckpt'), every: 10 },
    });
    const want = await snapshot(full);

    const path = join(dir, 'interrupted.ckpt');
    const p1 = linearParams();
    await expect(
      runFit({
        ...common,
        params: p1,
        rng: createRng(5),
        checkpoint: { path, every: 10 },
        callbacks: {
          onStep: (i) => {
            if (i.step === 27) throw new Error('simulated crash');
          },
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect((await readCheckpoint(path)).state.step).toBe(20);

    // A "new process": fresh variables at the initial values, a fresh rng from the same seed.
    const p2 = linearParams();
    const rResumed = await runFit({
      ...common,
      params: p2,
      rng: createRng(5),
      checkpoint: { path, every: 10 },
      resume: true,
    });
    expect(rResumed.stepsDone).toBe(40);
    expect(await snapshot(p2)).toEqual(want);
    expect(rResumed.history).toEqual(rFull.history);

    // Re-running a finished run does no step and leaves the parameters as they are.
    const p3 = linearParams();
    let stepsRun = 0;
    const again = await runFit({
      ...common,
      params: p3,
      rng: createRng(5),
      checkpoint: { path, every: 10 },
      resume: true,
      callbacks: { onStep: () => void stepsRun++ },
    });
    expect(stepsRun).toBe(0);
    expect(again.stepsDone).toBe(40);
    expect(await snapshot(p3)).toEqual(want);
    expect(want.a).not.toEqual([0.1]);
    for (const v of [
      ...Object.values(full),
      ...Object.values(p1),
      ...Object.values(p2),
      ...Object.values(p3),
    ])
      v.dispose();
    observed.dispose();
  });

  it('an AbortSignal stops the run after the current step with a checkpoint there; resuming finishes it exactly', async () => {
    const common = {
      variational: linearQ,
      objective: 'forward-kl',
      problem: conjugateProblem(),
      schedule: constantLr(0.02),
      steps: 30,
      batchSize: 8,
    } as const;
    const full = linearParams();
    await runFit({ ...common, params: full, rng: createRng(8) });
    const want = await snapshot(full);
    const path = join(dir, 'aborted.ckpt');
    const controller = new AbortController();
    const p1 = linearParams();
    await expect(
      runFit({
        ...common,
        params: p1,
        rng: createRng(8),
        checkpoint: { path, every: 100 },
        signal: controller.signal,
        callbacks: { onStep: (i) => void (i.step === 13 && controller.abort(new Error('stop requested'))) },
      }),
    ).rejects.toThrow('stop requested');
    expect((await readCheckpoint(path)).state.step).toBe(13);
    const p2 = linearParams();
    await runFit({
      ...common,
      params: p2,
      rng: createRng(8),
      checkpoint: { path, every: 100 },
      resume: true,
    });
    expect(await snapshot(p2)).toEqual(want);
    for (const v of [...Object.values(full), ...Object.values(p1), ...Object.values(p2)]) v.dispose();
  });

  it('refuses a checkpoint that is not one, or that belongs to other parameters', async () => {
    const junk = join(dir, 'junk.ckpt');
    writeFileSync(junk, 'hello');
    const params = linearParams();
    const base = {
      params,
      variational: linearQ,
      objective: 'forward-kl',
      problem: conjugateProblem(),
      steps: 5,
      batchSize: 4,
      rng: createRng(1),
    };
    await expect(runFit({ ...base, resumeFrom: junk })).rejects.toThrow(/junk\.ckpt: not a gcvi tensor file/);
    await expect(runFit({ ...base, resumeFrom: join(dir, 'missing.ckpt') })).rejects.toThrow(
      /missing\.ckpt: no such file/,
    );
    const other = join(dir, 'other.ckpt');
    const q = { p: tf.variable(tf.tensor1d([1]), true) };
    await runFit({
      params: q,
      variational: quadQ,
      objective: quadratic(1),
      problem: {},
      steps: 2,
      batchSize: 1,
      rng: createRng(1),
      checkpoint: { path: other, every: 1 },
    });
    await expect(runFit({ ...base, resumeFrom: other })).rejects.toThrow(
      /other\.ckpt: saved state is of objective 'quadratic', this run uses 'forward-kl'/,
    );
    for (const v of [...Object.values(params), q.p]) v.dispose();
  });

  it('leaves no tensor behind: tf.memory().numTensors before a whole fit equals its value after', async () => {
    const optimizers = [() => adam(), () => sgd(), () => sgd({ momentum: 0.9 })];
    for (const [i, make] of optimizers.entries()) {
      const params = { p: tf.variable(tf.tensor1d([0.5, -1, 2]), true) };
      const before = tf.memory().numTensors;
      const r = await runFit({
        params,
        variational: quadQ,
        objective: quadratic(0.3, [2]),
        problem: {},
        optimizer: make(),
        schedule: constantLr(0.05),
        steps: 6,
        batchSize: 1,
        rng: createRng(3),
        clipNorm: 0.1,
        checkpoint: { path: join(dir, `no-leak-${i}.ckpt`), every: 2 },
      });
      expect(r.skippedSteps).toBe(1);
      expect(tf.memory().numTensors).toBe(before);
      params.p.dispose();
    }
  });

  it('keeps memory flat: tf.memory().numTensors after 1000 steps equals its value after 10', async () => {
    const observed = createRng('data').normalTensor([200, 1], 0, Math.SQRT2);
    const params = linearParams();
    const counts: Record<number, number> = {};
    await runFit({
      params,
      variational: linearQ,
      objective: 'iwbo',
      objectiveOptions: { K: 4 },
      problem: conjugateProblem(observed),
      schedule: constantLr(1e-3),
      steps: 1000,
      batchSize: 32,
      rng: createRng(6),
      clipNorm: 100,
      callbacks: {
        every: [
          {
            every: 10,
            fn: (i) => {
              counts[i.step] = tf.memory().numTensors;
            },
          },
        ],
      },
    });
    expect(counts[10]).toBeGreaterThan(0);
    expect(counts[1000]).toBe(counts[10]);
    for (const v of Object.values(params)) v.dispose();
    observed.dispose();
  });
});
