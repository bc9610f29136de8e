import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalPoolExecutor, type RunProgress, type RunTask } from '../src/index.js';

const script = fileURLToPath(new URL('./fixtures/fake-worker.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'gcvi-pool-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const t = (id: string, action: string, ms = 150, seed = 7): RunTask => ({
  experiment: 'fake',
  id,
  config: { action, ms },
  storeRoot: root,
  label: id,
  seed,
});

describe('LocalPoolExecutor (child processes)', () => {
  it('runs tasks on separate processes and keeps going past a failed and a crashed run', async () => {
    const pool = new LocalPoolExecutor({ workers: 2, workerScript: script });
    const tasks = [t('a', 'ok'), t('b', 'fail'), t('c', 'crash', 50, 42), t('d', 'ok'), t('e', 'ok')];
    const started: string[] = [];
    const progress: RunProgress[] = [];
    const outcomes = await pool.run(tasks, {
      onStart: (task) => started.push(task.id),
      onProgress: (_task, p) => progress.push(p),
    });
    expect(outcomes.map((o) => o.task.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true, true]);
    expect(outcomes[1]!.error).toBe('boom');
    expect(outcomes[2]!.error).toMatch(/exited \(code 3\)/);
    expect(outcomes[2]!.task.seed).toBe(42);
    expect(started.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(progress.length).toBeGreaterThanOrEqual(5);
    const pids = new Set(['a', 'b', 'd', 'e'].map((id) => readFileSync(join(root, `${id}.pid`), 'utf8')));
    expect(pids.size).toBeGreaterThanOrEqual(2);
  });

  it('rejects a bad worker count naming the option', () => {
    expect(() => new LocalPoolExecutor({ workers: 0, workerScript: script })).toThrow(/workers/);
  });

  it('an empty task list resolves at once', async () => {
    expect(await new LocalPoolExecutor({ workers: 2, workerScript: script }).run([])).toEqual([]);
  });
});
