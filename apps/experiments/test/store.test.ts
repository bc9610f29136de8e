import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError } from '@gcvi/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeTyped,
  encodeTyped,
  executeRun,
  FILES,
  ResultsStore,
  type RunTask,
  runId,
  writeFileAtomic,
} from '../src/index.js';
import { toyExperiment } from './fixtures/toy.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'gcvi-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function task(root: string, config: { n: number; seed: number; every: number }): RunTask {
  return { experiment: 'toy', id: runId('toy', config), config, storeRoot: root, label: 'toy' };
}

describe('atomic writes', () => {
  it('replaces the file whole and leaves no temporary files', () => {
    const d = tmp();
    const f = join(d, 'sub', 'a.json');
    writeFileAtomic(f, 'first');
    writeFileAtomic(f, 'second');
    expect(readFileSync(f, 'utf8')).toBe('second');
    expect(readdirSync(join(d, 'sub'))).toEqual(['a.json']);
  });

  it('round-trips typed arrays bit for bit in checkpoints', () => {
    const v = {
      a: new Float32Array([1.5, -0, Number.NaN, 3e-45]),
      b: new Float64Array([Math.PI]),
      c: [new Int32Array([-7])],
    };
    const back = decodeTyped(encodeTyped(v)) as typeof v;
    expect(back.a).toBeInstanceOf(Float32Array);
    expect(Buffer.from(back.a.buffer).equals(Buffer.from(v.a.buffer))).toBe(true);
    expect(back.b[0]).toBe(Math.PI);
    expect(back.c[0]![0]).toBe(-7);
  });
});

describe('results store: skip and resume', () => {
  const cfg = { n: 40, seed: 3, every: 10 };

  it('status goes new → partial → done; a finished run is skipped, not run again', async () => {
    const root = tmp();
    const exp = toyExperiment();
    const store = new ResultsStore(root);
    const t = task(root, cfg);
    expect(store.status('toy', t.id)).toBe('new');
    const o1 = await executeRun([exp], t);
    expect(o1).toMatchObject({ ok: true, mode: 'fresh' });
    expect(store.status('toy', t.id)).toBe('done');
    for (const f of Object.values(FILES))
      expect(existsSync(join(store.runDir('toy', t.id), f)), f).toBe(true);
    const o2 = await executeRun([exp], t);
    expect(o2.mode).toBe('skipped');
    expect(exp.calls).toBe(1);
    const run = store.load('toy', t.id);
    expect(run.config).toEqual(cfg);
    expect(run.metrics).toHaveLength(40);
    expect(run.meta?.resumed).toBe(false);
  });

  it('an interrupted run resumes from its checkpoint and ends exactly like an uninterrupted one', async () => {
    const rootA = tmp();
    const rootB = tmp();
    const exp = toyExperiment();
    await executeRun([exp], task(rootA, cfg));
    exp.failAt = 27; // crash after the checkpoint at step 20, with 7 metric rows written after it
    const failed = await executeRun([exp], task(rootB, cfg));
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/simulated crash at step 27/);
    const storeB = new ResultsStore(rootB);
    const id = runId('toy', cfg);
    expect(storeB.status('toy', id)).toBe('partial');
    const resumed = await executeRun([exp], task(rootB, cfg));
    expect(resumed).toMatchObject({ ok: true, mode: 'resumed' });
    const a = new ResultsStore(rootA).load('toy', id);
    const b = storeB.load('toy', id);
    expect(b.metrics).toEqual(a.metrics);
    expect(b.summary).toEqual(a.summary);
    expect(b.meta?.resumed).toBe(true);
  });

  it('ignores a torn last metrics line but rejects corruption elsewhere', () => {
    const root = tmp();
    const store = new ResultsStore(root);
    const h = store.open('toy', 'abc', { x: 1 });
    h.appendMetrics([
      { kind: 'k', step: 1 },
      { kind: 'k', step: 2 },
    ]);
    appendFileSync(h.file(FILES.metrics), '{"kind":"k","st');
    expect(h.readMetrics()).toHaveLength(2);
    writeFileSync(h.file(FILES.metrics), '{"kind":"k","step":1}\nnot json\n{"kind":"k","step":3}\n');
    expect(() => h.readMetrics()).toThrow(FileFormatError);
    expect(() => h.readMetrics()).toThrow(/line 2/);
  });

  it('refuses to reuse a run directory that holds another config', () => {
    const store = new ResultsStore(tmp());
    store.open('toy', 'same-id', { a: 1 });
    expect(() => store.open('toy', 'same-id', { a: 2 })).toThrow(/different config/);
  });

  it('a summary.json without the runner envelope is a file error naming it', () => {
    const store = new ResultsStore(tmp());
    const id = runId('toy', { a: 1 });
    const h = store.open('toy', id, { a: 1 });
    writeFileSync(h.file(FILES.summary), '{"mean": 1}');
    expect(() => store.load('toy', id)).toThrow(/summary\.json/);
  });

  it('a bad config in a task fails that run with the field named, without throwing', async () => {
    const root = tmp();
    const o = await executeRun([toyExperiment()], {
      ...task(root, cfg),
      config: { n: -1, seed: 1, every: 1 },
    });
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/toy\.config\.n/);
  });
});
