/**
 * Fault tests of the run store (quick profile sized down by a profile file, wasm): a claim left
 * by a killed process, two concurrent `reproduce` on one folder, a torn metrics line, a
 * hand-edited config.json, SIGINT to the CLI. Each ends with every run executed once and
 * `summary.json` and every run's files equal to an uninterrupted run's.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { e1 } from '../src/experiments/e1/index.js';
import {
  Claim,
  executeRun,
  FILES,
  inspectClaim,
  invocationSchema,
  ResultsStore,
  type RunTask,
  runId,
} from '../src/index.js';
import { capture } from './fixtures/capture.js';
import { type Child, sleep, cliProcess as spawnCli, until } from './fixtures/cli-process.js';

const HOLD = fileURLToPath(new URL('./fixtures/hold-claim.mjs', import.meta.url));

const root = mkdtempSync(join(tmpdir(), 'gcvi-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Four tiny E1 runs (small configs that still write checkpoints, NTK rows and test NLLs). */
const PROFILE = join(root, 'tiny.json');
writeFileSync(
  PROFILE,
  JSON.stringify({
    name: 'tiny',
    base: 'quick',
    e1: {
      widths: [16, 24, 32, 40],
      // Long enough that a run is still training well after its first checkpoint on an idle
      // machine, so the kill and SIGINT tests below stop runs mid-way (not after they finished).
      steps: 2000,
      evalEvery: 250,
      trackEvery: 500,
      testSize: 50,
      trackSize: 5,
      checkpointEvery: 250,
    },
  }),
);
const ARGS = ['reproduce', '--profile', PROFILE, '--only', 'e1', '--backend', 'wasm', '--progress', 'lines'];

/** The CLI in this process, no workers. */
async function inProcess(out: string, extra: string[] = []) {
  const o = capture();
  const code = await main([...ARGS, '--out', out, '--workers', '0', ...extra], {
    stdout: o.stream,
    stderr: o.stream,
    signals: false,
  });
  return { code, log: o.text() };
}

/** The compiled CLI as its own process (what a user or a supervisor starts). */
function cliProcess(out: string, extra: string[] = []): Child {
  return spawnCli([...ARGS, '--out', out, ...extra]);
}

/** Lock paths of the run claims under a results folder. */
function claims(dir: string): string[] {
  const d = join(dir, 'claims', 'e1');
  return existsSync(d)
    ? readdirSync(d)
        .filter((f) => f.endsWith('.lock'))
        .map((f) => join(d, f))
    : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether every claimed run has written its first checkpoint (so it is mid-way, with metrics). */
function claimedRunsCheckpointed(dir: string): boolean {
  const held = claims(dir);
  return (
    held.length === 2 &&
    held.every((l) => {
      const id = l.slice(l.lastIndexOf('/') + 1, -'.lock'.length);
      return inspectClaim(l, 60_000)?.owner && existsSync(join(dir, 'runs', 'e1', id, 'checkpoint-full.bin'));
    })
  );
}

let reference = '';
const refDir = () => join(reference, 'tiny');

/** summary.json and every run's config, metrics and summary equal the uninterrupted reference's, byte for byte. */
function expectSameResults(out: string): void {
  const dir = join(out, 'tiny');
  expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(
    readFileSync(join(refDir(), 'summary.json'), 'utf8'),
  );
  const ids = readdirSync(join(refDir(), 'runs', 'e1')).sort();
  expect(readdirSync(join(dir, 'runs', 'e1')).sort()).toEqual(ids);
  for (const id of ids) {
    for (const f of [FILES.config, FILES.metrics, FILES.summary]) {
      const a = readFileSync(join(refDir(), 'runs', 'e1', id, f), 'utf8');
      expect(readFileSync(join(dir, 'runs', 'e1', id, f), 'utf8'), `${id}/${f}`).toBe(a);
    }
  }
  expect(claims(dir), 'claims left behind').toEqual([]);
}

function invocation(out: string) {
  return invocationSchema.parse(JSON.parse(readFileSync(join(out, 'tiny', 'invocation.json'), 'utf8')));
}

beforeAll(async () => {
  reference = join(root, 'reference');
  const r = await inProcess(reference);
  expect(r.code, r.log).toBe(0);
  expect(invocation(reference).counts).toMatchObject({ planned: 4, executed: 4, failed: 0 });
}, 300_000);

describe('claims', () => {
  it('a claim is exclusive while its heartbeat runs, and stale (taken over, with a log line) after a kill -9', async () => {
    const lock = join(root, 'unit', 'x.lock');
    mkdirSync(join(root, 'unit'), { recursive: true });
    const holder = spawn(process.execPath, [HOLD, lock, 'test claim'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    holder.stdout?.on('data', (d: Buffer) => {
      said += d.toString();
    });
    await until('the holder to claim', () => said.includes('claimed'), 30_000);
    // held by a live process: not ours, and it names its owner
    await sleep(2500); // longer than the stale time: the heartbeat keeps it fresh
    const busy = await Claim.tryAcquire(lock, { staleAfterMs: 2000, purpose: 'second' });
    expect(busy).not.toBeInstanceOf(Claim);
    expect(inspectClaim(lock, 2000)?.owner).toMatchObject({ pid: holder.pid, purpose: 'test claim' });
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('exit', r));
    await sleep(2500);
    const logs: string[] = [];
    const got = await Claim.tryAcquire(lock, {
      staleAfterMs: 2000,
      purpose: 'second',
      log: (m) => logs.push(m),
    });
    expect(got).toBeInstanceOf(Claim);
    expect(logs.join('\n')).toMatch(
      new RegExp(`took over the stale claim on second held by .* pid ${holder.pid}`),
    );
    await (got as Claim).release();
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it('a claim that goes stale while it is being taken is reported as taken over', async () => {
    // Heartbeat 1,990 ms old against a 2,000 ms stale time: not stale when inspected, stale by the
    // time the lock thread has started and takes it.
    const lock = join(root, 'unit', 'edge.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(
      `${lock}.owner.json`,
      JSON.stringify({
        host: 'elsewhere',
        pid: 424242,
        purpose: 'planted',
        claimedAt: new Date().toISOString(),
      }),
    );
    const beat = new Date(Date.now() - 1990);
    utimesSync(lock, beat, beat);
    const logs: string[] = [];
    const got = await Claim.acquire(lock, {
      staleAfterMs: 2000,
      purpose: 'edge',
      pollMs: 200,
      log: (m) => logs.push(m),
    });
    expect(logs.join('\n')).toMatch(/took over the stale claim on edge held by elsewhere pid 424242/);
    await got.release();
    expect(existsSync(lock)).toBe(false);
  }, 30_000);
});

describe('faults (tiny E1 profile, wasm)', () => {
  it('two concurrent reproduce on one folder: each run executed once, both correct', async () => {
    const out = join(root, 'concurrent');
    const a = cliProcess(out, ['--workers', '2']);
    const b = cliProcess(out, ['--workers', '2']);
    const [ca, cb] = await Promise.all([a.exit, b.exit]);
    expect(ca, a.log()).toBe(0);
    expect(cb, b.log()).toBe(0);
    expectSameResults(out);
    // every run has exactly one fresh execution across the two invocations
    const executed = readdirSync(join(out, 'tiny', 'runs', 'e1')).map((id) => {
      const meta = JSON.parse(readFileSync(join(out, 'tiny', 'runs', 'e1', id, FILES.meta), 'utf8'));
      return meta.resumed;
    });
    expect(executed).toEqual([false, false, false, false]);
    const logs = a.log() + b.log();
    expect(logs.match(/^done e1 width \d+ \(\w+\): fresh/gm)).toHaveLength(4);
  }, 300_000);

  it('kill -9 of the CLI and its workers leaves claims that a rerun takes over once stale, and completes', async () => {
    const out = join(root, 'killed');
    const c = cliProcess(out, ['--workers', '2']);
    await until('two claimed runs past their first checkpoint', () =>
      claimedRunsCheckpointed(join(out, 'tiny')),
    );
    const owners = claims(join(out, 'tiny')).map((l) => inspectClaim(l, 60_000)!.owner!.pid);
    c.proc.kill('SIGKILL');
    for (const pid of owners) process.kill(pid, 'SIGKILL');
    await c.exit;
    expect(claims(join(out, 'tiny'))).toHaveLength(2); // nobody released them
    const r = await inProcess(out, ['--stale-after', '2s']);
    expect(r.code, r.log).toBe(0);
    expect(r.log).toMatch(/took over the stale claim on run e1\/\w+ held by .* pid \d+/);
    expectSameResults(out);
  }, 300_000);

  it('SIGINT to the CLI stops its workers and releases the claims; a rerun completes with equal results', async () => {
    const out = join(root, 'sigint');
    const c = cliProcess(out, ['--workers', '2']);
    await until('two claimed runs past their first checkpoint', () =>
      claimedRunsCheckpointed(join(out, 'tiny')),
    );
    const workers = claims(join(out, 'tiny')).map((l) => inspectClaim(l, 60_000)!.owner!.pid);
    expect(workers.every(alive)).toBe(true);
    c.proc.kill('SIGINT');
    expect(await c.exit).toBe(130);
    expect(c.log()).toMatch(/SIGINT: stopping the workers/);
    await until('the workers to exit', () => !workers.some(alive), 10_000);
    expect(claims(join(out, 'tiny'))).toEqual([]);
    const r = await inProcess(out);
    expect(r.code, r.log).toBe(0);
    expectSameResults(out);
  }, 300_000);

  it('a hand-edited config.json is one clear error naming the file; --force redoes the runs', async () => {
    const out = join(root, 'edited');
    const dir = join(out, 'tiny');
    const { cpSync } = await import('node:fs');
    cpSync(refDir(), dir, { recursive: true });
    const id = readdirSync(join(dir, 'runs', 'e1')).sort()[0]!;
    const file = join(dir, 'runs', 'e1', id, FILES.config);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.config.steps = 1999;
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const bad = await inProcess(out);
    expect(bad.code).toBe(2);
    expect(bad.log).toContain(`${file}: holds a config whose hash`);
    expect(bad.log).toContain(`is not the run id ${id}`);
    const forced = await inProcess(out, ['--force']);
    expect(forced.code, forced.log).toBe(0);
    expect(invocation(out).counts).toMatchObject({ planned: 4, executed: 4, skipped: 0 });
    expectSameResults(out);
  }, 300_000);
});

describe('torn metrics line', () => {
  it('is dropped on resume, and the resumed run equals the uninterrupted one', async () => {
    const ref = new ResultsStore(refDir());
    const id = readdirSync(join(refDir(), 'runs', 'e1')).sort()[0]!;
    const config = ref.load('e1', id).config;
    const storeRoot = join(root, 'torn', 'tiny');
    const task: RunTask = { experiment: 'e1', id: runId('e1', config), config, storeRoot, label: 'tiny' };
    expect(task.id).toBe(id);
    const crashed = await executeRun([e1], task, {
      progress: (p) => {
        if (p.step === 2000) throw new Error('power loss at 2000'); // the full network done, the linear one not started
      },
    });
    expect(crashed.error).toMatch(/power loss at 2000/);
    const metrics = join(storeRoot, 'runs', 'e1', id, FILES.metrics);
    appendFileSync(metrics, '{"kind":"testNll","model":"fu');
    const logs: string[] = [];
    const resumed = await executeRun([e1], task, { log: (m) => logs.push(m) });
    expect(resumed.mode, resumed.error).toBe('resumed');
    expect(logs.join('\n')).toMatch(/dropping a torn last line of .*metrics\.jsonl/);
    for (const f of [FILES.metrics, FILES.summary]) {
      expect(readFileSync(join(storeRoot, 'runs', 'e1', id, f), 'utf8'), f).toBe(
        readFileSync(join(refDir(), 'runs', 'e1', id, f), 'utf8'),
      );
    }
  }, 120_000);
});
