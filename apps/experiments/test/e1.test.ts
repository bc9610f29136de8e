import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e1Claims } from '../src/experiments/e1/claims.js';
import { e1Deviations } from '../src/experiments/e1/config.js';
import { type E1Config, type E1Run, type E1RunSummary, e1, e1Plan } from '../src/experiments/e1/index.js';
import { e1TrackedInputs } from '../src/experiments/e1/run.js';
import { infiniteGramSpectrum } from '../src/experiments/e1/track.js';
import { executeRun, type MetricRow, ResultsStore, runId } from '../src/index.js';

describe('E1 profiles', () => {
  it('paper profile is DESIGN §2 E1 exactly, with no deviations', () => {
    const plan = e1Plan('paper');
    expect(plan.map((c) => c.width)).toEqual([64, 128, 256, 512, 1024, 2048, 4096]);
    for (const c of plan) {
      expect(c).toMatchObject({
        steps: 200_000,
        batchSize: 16,
        lr0: 1e-4,
        lrScale: 10,
        sigma: 0.5,
        etaOffset: 1e-4,
        evalEvery: 500,
        testSize: 1000,
        trackEvery: 250,
        trackSize: 100,
        gridBinWidth: 1e-3,
      });
    }
    expect(e1Deviations('paper')).toEqual([]);
  });

  it('default covers the widths of Figure 1 on the paper test set and lists its deviations', () => {
    const plan = e1Plan('default');
    expect(plan.map((c) => c.width)).toEqual(expect.arrayContaining([64, 256, 1024]));
    for (const c of plan)
      expect(c).toMatchObject({ testSize: 1000, trackSize: 100, batchSize: 16, lr0: 1e-4 });
    expect(e1Deviations('default').join(' ')).toMatch(/training steps per model instead of 200,000/);
  });
});

/** The real infinite-width spectrum on the quick profile's tracked inputs (what a run records). */
function spectrum() {
  const x = e1TrackedInputs(e1Plan('quick')[0]!);
  const s = infiniteGramSpectrum(x);
  x.dispose();
  return s;
}

function fakeRun(width: number, full: number, linear: number, jd: number, nd: number): E1Run {
  const summary: E1RunSummary = {
    width,
    steps: 100,
    exactNll: 0.73,
    finalTestNll: { full, linear },
    skippedSteps: { full: 0, linear: 0 },
    jacobianDistance: jd,
    ntkDistance: nd,
    ntkMinEigenvalue: 1e-3,
    ntkMinEigenvalueFinal: 1e-3,
    ntkEig1: nd,
    objective: 'forward-kl',
    infiniteNtk: spectrum(),
  };
  const metrics: MetricRow[] = [{ kind: 'ntk', model: 'full', step: 100, eig1: nd, eig2: nd / 2 }];
  return {
    experiment: 'e1',
    id: String(width),
    dir: '',
    config: { ...e1Plan('quick')[0]!, width },
    summary,
    meta: { finishedAt: '', wallSeconds: 0, resumed: false, backend: 'cpu', host: 'h', pid: 0, timings: {} },
    metrics,
  };
}

describe('E1 claims use fixed thresholds', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const status = (runs: E1Run[]) => Object.fromEntries(e1Claims(runs, 0.73).map((c) => [c.id, c.status]));

  it('passes within 0.01 of exact and 0.005 between models, fails just outside', () => {
    const ok = status([fakeRun(64, 0.8, 0.8, 3, 3), fakeRun(1024, 0.739, 0.7355, 1, 1)]);
    expect(ok['e1-full-1024-reaches-exact']).toBe('pass');
    expect(ok['e1-linear-1024-reaches-exact']).toBe('pass');
    expect(ok['e1-1024-full-matches-linear']).toBe('pass');
    const bad = status([fakeRun(64, 0.8, 0.8, 3, 3), fakeRun(1024, 0.7411, 0.735, 1, 1)]);
    expect(bad['e1-full-1024-reaches-exact']).toBe('fail');
    expect(bad['e1-1024-full-matches-linear']).toBe('fail');
  });

  it('distances must strictly decrease with width; without width 1024 the NLL claims are n/a', () => {
    const s = status([fakeRun(64, 0.8, 0.8, 3, 1), fakeRun(256, 0.8, 0.8, 2, 2)]);
    expect(s['e1-jacobian-distance-shrinks']).toBe('pass');
    expect(s['e1-ntk-distance-shrinks']).toBe('fail');
    expect(s['e1-ntk-eigenvalues-shrink']).toBe('fail');
    expect(s['e1-full-1024-reaches-exact']).toBe('n/a');
    expect(s['e1-ntk-positive-definite']).toBe('pass');
  });
});

describe('E1 run: interrupted and resumed equals uninterrupted', () => {
  const roots: string[] = [];
  beforeAll(async () => {
    await initBackend();
  });
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  const config: E1Config = {
    ...e1Plan('quick')[0]!,
    width: 16,
    steps: 60,
    evalEvery: 10,
    trackEvery: 20,
    testSize: 50,
    trackSize: 5,
    checkpointEvery: 20,
  };
  const task = (root: string) => ({
    experiment: 'e1',
    id: runId('e1', config),
    config,
    storeRoot: root,
    label: 'tiny',
  });

  it('crashes in each phase, resumes from the checkpoints, ends with identical metrics and numbers', async () => {
    const a = mkdtempSync(join(tmpdir(), 'gcvi-e1a-'));
    const b = mkdtempSync(join(tmpdir(), 'gcvi-e1b-'));
    roots.push(a, b);
    const tensors0 = tf.memory().numTensors;
    const ref = await executeRun([e1], task(a));
    expect(ref.ok, ref.error).toBe(true);
    // Tensors left behind must not depend on the number of steps (a long run stays flat): a run
    // three times longer leaves the same count.
    const leftShort = tf.memory().numTensors - tensors0;
    const c = mkdtempSync(join(tmpdir(), 'gcvi-e1c-'));
    roots.push(c);
    const longer = { ...config, steps: 180 };
    const t1 = tf.memory().numTensors;
    const long = await executeRun([e1], { ...task(c), config: longer, id: runId('e1', longer) });
    expect(long.ok, long.error).toBe(true);
    expect(tf.memory().numTensors - t1).toBe(leftShort);
    for (const crashAt of [50, 110]) {
      const o = await executeRun([e1], task(b), {
        progress: (p) => {
          if (p.step === crashAt) throw new Error(`interrupted at ${crashAt}`);
        },
      });
      expect(o.ok).toBe(false);
      expect(o.error).toMatch(`interrupted at ${crashAt}`);
    }
    const resumed = await executeRun([e1], task(b));
    expect(resumed.mode).toBe('resumed');
    const ra = new ResultsStore(a).load<E1Config, E1RunSummary>('e1', task(a).id);
    const rb = new ResultsStore(b).load<E1Config, E1RunSummary>('e1', task(b).id);
    expect(rb.metrics).toEqual(ra.metrics);
    expect(rb.summary).toEqual(ra.summary);
    // summary.json and metrics.jsonl byte for byte
    for (const f of ['summary.json', 'metrics.jsonl']) {
      expect(readFileSync(join(rb.dir, f), 'utf8'), f).toBe(readFileSync(join(ra.dir, f), 'utf8'));
    }
    // 7 evaluations (0..60 by 10) per model, 4 tracker rows (0..60 by 20) for the full network
    expect(ra.metrics.filter((m) => m.kind === 'testNll' && m.model === 'full')).toHaveLength(7);
    expect(ra.metrics.filter((m) => m.kind === 'testNll' && m.model === 'linear')).toHaveLength(7);
    expect(ra.metrics.filter((m) => m.kind === 'ntk')).toHaveLength(4);
    // at step 0 both models are the same function (linearization at φ0): uniform q, NLL = log 2π
    const at0 = ra.metrics.filter((m) => m.kind === 'testNll' && m.step === 0).map((m) => Number(m.nll));
    for (const v of at0) expect(v).toBeCloseTo(Math.log(2 * Math.PI), 3);
  });
});
