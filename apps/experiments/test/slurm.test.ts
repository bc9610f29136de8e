/**
 * Slurm job arrays without Slurm: `reproduce --executor slurm --emit DIR` writes tasks.json and
 * array.sbatch; each array task is run here as Slurm would (`run-task` with SLURM_ARRAY_TASK_ID
 * set, each in its own process), then `reproduce --analyse-only` builds the report. Results
 * (every run's files, the figures, summary.json) equal an inline run's byte for byte.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli-process.js';
import { expectSameAs } from './support/same-results.js';
import { writeTinyE1Profile } from './support/tiny-profile.js';

const root = mkdtempSync(join(tmpdir(), 'gcvi-slurm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PROFILE = writeTinyE1Profile(root, [16, 24]);
const RUN = ['--profile', PROFILE, '--only', 'e1', '--backend', 'wasm', '--progress', 'none'];

const cli = runCli;

const reference = join(root, 'reference');
beforeAll(async () => {
  const r = await cli(['reproduce', ...RUN, '--out', reference, '--workers', '0']);
  expect(r.code, r.log).toBe(0);
}, 300_000);

describe('slurm job array (emitted, tasks run with SLURM_ARRAY_TASK_ID set here)', () => {
  it('emit → run-task per index → --analyse-only equals the inline run', async () => {
    const out = join(root, 'slurm');
    const emit = join(root, 'emit');
    const e = await cli(['reproduce', ...RUN, '--out', out, '--executor', 'slurm', '--emit', emit]);
    expect(e.code, e.log).toBe(0);
    const tasks = JSON.parse(readFileSync(join(emit, 'tasks.json'), 'utf8'));
    expect(tasks.tasks).toHaveLength(2);
    const script = readFileSync(join(emit, 'array.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-1');
    expect(script).toMatch(/run-task --tasks \S*tasks\.json --index "\$SLURM_ARRAY_TASK_ID"/);
    // before any task ran, the analysis reports the missing runs and fails
    const early = await cli(['reproduce', ...RUN, '--out', out, '--analyse-only', '--progress', 'lines']);
    expect(early.code).toBe(1);
    expect(early.log).toMatch(/run FAILED: e1 width \d+ id \w+/);
    // what Slurm would do: one process per array index, here two at once
    const runs = await Promise.all(
      [0, 1].map((i) =>
        cli(['run-task', '--tasks', join(emit, 'tasks.json'), '--backend', 'wasm'], {
          SLURM_ARRAY_TASK_ID: String(i),
        }),
      ),
    );
    for (const r of runs) expect(r.code, r.log).toBe(0);
    const again = await cli([
      'run-task',
      '--tasks',
      join(emit, 'tasks.json'),
      '--index',
      '0',
      '--backend',
      'wasm',
    ]);
    expect(again.code, again.log).toBe(0);
    expect(again.log).toMatch(/: skipped in/);
    const a = await cli(['reproduce', ...RUN, '--out', out, '--analyse-only']);
    expect(a.code, a.log).toBe(0);
    expectSameAs(join(out, 'tiny'), join(reference, 'tiny'));
  }, 400_000);

  it('a bad index is one error naming SLURM_ARRAY_TASK_ID', async () => {
    const emit = join(root, 'emit');
    const r = await cli(['run-task', '--tasks', join(emit, 'tasks.json')], { SLURM_ARRAY_TASK_ID: '7' });
    expect(r.code).toBe(2);
    expect(r.log).toContain('SLURM_ARRAY_TASK_ID: must be an integer in [0, 1]');
  }, 60_000);
});
