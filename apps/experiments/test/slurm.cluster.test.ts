/**
 * The emitted job array on a real Slurm (behind a flag: GCVI_SLURM=1). A single-node cluster —
 * Debian's slurm-wlm and munge, this host as controller and node, free localhost ports, state in a
 * temporary folder — is started here; `reproduce --executor slurm --emit` writes the array,
 * `sbatch --wait` runs it, `reproduce --analyse-only` builds the report, and every run's files,
 * the figures and summary.json equal an inline run's byte for byte.
 *
 *   GCVI_SLURM=1 pnpm --filter @gcvi/experiments exec vitest run test/slurm.cluster.test.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli-process.js';
import { expectSameAs } from './support/same-results.js';
import { slurmUnavailable, TestSlurm } from './support/slurm.js';
import { writeTinyE1Profile } from './support/tiny-profile.js';

const wanted = process.env.GCVI_SLURM === '1';
if (!wanted) {
  console.log(
    "slurm cluster test skipped: set GCVI_SLURM=1 to run it (needs root and Debian's slurm-wlm and munge: `GCVI_SLURM=1 bash scripts/setup.sh` installs them)",
  );
}

describe.skipIf(!wanted)('slurm job array on a real single-node Slurm (GCVI_SLURM=1)', () => {
  const root = mkdtempSync(join(tmpdir(), 'gcvi-slurm-real-'));
  const PROFILE = writeTinyE1Profile(root, [16, 24, 32]);
  const RUN = ['--profile', PROFILE, '--only', 'e1', '--backend', 'wasm', '--progress', 'none'];
  let slurm: TestSlurm | undefined;

  beforeAll(async () => {
    // asked for with the flag, so a machine without Slurm fails here rather than skipping
    const why = slurmUnavailable();
    if (why) throw new Error(`GCVI_SLURM=1 but Slurm cannot run here: ${why}`);
    slurm = await TestSlurm.start();
  }, 120_000);
  afterAll(async () => {
    await slurm?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('emit → sbatch --wait → --analyse-only equals the inline run', async () => {
    const reference = join(root, 'reference');
    const ref = await runCli(['reproduce', ...RUN, '--out', reference, '--workers', '0']);
    expect(ref.code, ref.log).toBe(0);

    const out = join(root, 'slurm');
    const emit = join(root, 'emit');
    const e = await runCli(['reproduce', ...RUN, '--out', out, '--executor', 'slurm', '--emit', emit]);
    expect(e.code, e.log).toBe(0);
    const s = slurm?.sbatchWait(join(emit, 'array.sbatch'));
    expect(s?.code, s?.out).toBe(0);
    expect(s?.out).toMatch(/Submitted batch job \d+/);
    // one log per array task, each naming the run it executed
    const logs = readdirSync(join(emit, 'logs')).filter((f) => f.endsWith('.out'));
    expect(logs).toHaveLength(3);
    for (const f of logs) expect(readFileSync(join(emit, 'logs', f), 'utf8')).toMatch(/e1 width (16|24|32)/);

    const a = await runCli(['reproduce', ...RUN, '--out', out, '--analyse-only']);
    expect(a.code, a.log).toBe(0);
    expectSameAs(join(out, 'tiny'), join(reference, 'tiny'));
  }, 600_000);
});
