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
import { z } from 'zod';
import { executeRun, FILES, ResultsStore, type RunTask, runId, writeFileAtomic } from '../src/index.js';
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

describe('results store: the store owns resume, and checks what it loads', () => {
  it('opening a run drops a torn last metrics line (rewritten atomically, with a log line)', () => {
    const store = new ResultsStore(tmp());
    const h = store.open('toy', 'abc', { x: 1 });
    h.appendMetrics([{ kind: 'k', step: 1 }]);
    appendFileSync(h.file(FILES.metrics), '{"kind":"k","step":2}'); // complete JSON, but no newline: torn
    const logs: string[] = [];
    const again = store.open('toy', 'abc', { x: 1 }, undefined, (m) => logs.push(m));
    expect(logs[0]).toMatch(/dropping a torn last line of .*metrics\.jsonl/);
    expect(readFileSync(again.file(FILES.metrics), 'utf8')).toBe('{"kind":"k","step":1}\n');
    again.appendMetrics([{ kind: 'k', step: 2 }]);
    expect(again.readMetrics().map((r) => r.step)).toEqual([1, 2]);
  });

  it('a segment keeps its rows up to the resumed step, or drops them all on a fresh start', () => {
    const store = new ResultsStore(tmp());
    const h = store.open('toy', 'seg', { x: 1 });
    h.appendMetrics(
      [1, 2, 3].flatMap((step) => [
        { kind: 'k', step, model: 'a' },
        { kind: 'k', step, model: 'b' },
      ]),
    );
    const a = h.segment({ model: 'a' });
    a.resumeAt(2);
    a.append([{ kind: 'k', step: 3 }]);
    const b = h.segment({ model: 'b' });
    b.append([{ kind: 'k', step: 1 }]); // no resumeAt: a fresh start of b
    expect(h.readMetrics().map((r) => `${r.model}${r.step}`)).toEqual(['a1', 'a2', 'a3', 'b1']);
  });

  it('a finished run is checked on load: config hash = id, result against its schema, naming file and field', () => {
    const store = new ResultsStore(tmp());
    const cfg = { n: 3, seed: 1, every: 1 };
    const id = runId('toy', cfg);
    const h = store.open('toy', id, cfg);
    h.writeSummary({ mean: 'high', n: 3 });
    const schemas = {
      config: toyExperiment().configSchema,
      result: z.object({ mean: z.number(), n: z.number() }).strict(),
    };
    expect(() => store.load('toy', id, schemas)).toThrow(
      new RegExp(`${id}/summary\\.json: result\\.mean: .*expected number`),
    );
    writeFileSync(h.file(FILES.config), JSON.stringify({ experiment: 'toy', id, config: { ...cfg, n: 4 } }));
    expect(() => store.load('toy', id, schemas)).toThrow(
      new RegExp(`${id}/config\\.json: holds a config whose hash \\w+ is not the run id ${id}`),
    );
  });

  it('a cache claim waits for its live holder, naming it, then is ours', async () => {
    const store = new ResultsStore(tmp());
    const lock = store.cacheLock(2000);
    const first = await lock.acquire('gen');
    const logs: string[] = [];
    const second = store.cacheLock(2000, (m) => logs.push(m)).acquire('gen');
    await new Promise((r) => setTimeout(r, 1500));
    expect(logs[0]).toMatch(new RegExp(`waiting for cache gen, claimed by .* pid ${process.pid}`));
    await first.release();
    const got = await second;
    expect(got.lockPath).toBe(store.cacheClaimPath('gen'));
    await got.release();
    expect(existsSync(store.cacheClaimPath('gen'))).toBe(false);
  });
});
