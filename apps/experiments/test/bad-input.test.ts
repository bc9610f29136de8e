/**
 * The bad-input suite: what a newcomer gets wrong, tried on purpose — CLI flags and environment,
 * profile files, plugins, results folders, run folders (damaged run files, claims), data and
 * checkpoint files, and the public numerics. Each case says what "clear" means and is checked:
 *
 * - CLI cases: the exit code (2 usage/config, 1 failed run), one stderr line matching the flag,
 *   field, file or value at fault, no `    at ` stack-frame line on stdout or stderr, finished
 *   within its timeout, and (where results were already written) every file unchanged;
 * - file cases: a `FileFormatError` (or the named typed error) whose message names the file;
 * - numerics cases: a typed gcvi error naming the argument/step/value, or the correct value
 *   against an independent float64 reference at a stated tolerance.
 *
 * The suite prints one closing line `bad inputs: N tried, N clear errors, 0 stack traces, 0 hangs,
 * 0 silently wrong` and fails otherwise. Most cases call the CLI's exported `main` in process;
 * a few spawn the built CLI (EPIPE, --version, the /proc hang, environment variables).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkGeneratorCheckpoint, generatorFromStateDict, loadTorchCheckpoint } from '@gcvi/datasets';
import { Categorical, MultivariateNormal, Normal, Uniform, VonMises } from '@gcvi/distributions';
import { i1OverI0Number, logI0eNumber, logI0Number, oneMinusI1OverI0Number } from '@gcvi/kernels';
import { adam, constantLr, fit, forwardKl, inverseTimeLr, stepDivideLr } from '@gcvi/objectives';
import { createRng, GcviError, initBackend, readTensorFile, writeTensorFile } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  smallGeneratorStateDict,
  storedZip,
  torchCheckpointBytes,
} from '../../../test-support/torch-checkpoint.js';
import { main } from '../src/cli.js';
import { type AnyExperiment, EXPERIMENTS, type Executor, InlineExecutor } from '../src/index.js';
import { capture } from './fixtures/capture.js';
import { toyExperiment } from './fixtures/toy.js';

type Verdict = 'clear' | 'stack' | 'hang' | 'wrong';
interface Result {
  readonly area: string;
  readonly name: string;
  readonly verdict: Verdict;
  readonly detail: string;
}
const results: Result[] = [];
const STACK = /^\s+at\s/m;
const tmp = mkdtempSync(join(tmpdir(), 'gcvi-bad-input-'));
const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliJs = join(appDir, 'dist', 'cli.js');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function record(area: string, name: string, verdict: Verdict, detail = ''): void {
  results.push({ area, name, verdict, detail });
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** sha256 of every file under `dir` (relative path → hash). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** Which files of `before` changed or vanished (new files are allowed: they were not written before). */
function changed(before: Map<string, string>, after: Map<string, string>, ignore?: RegExp): string[] {
  return [...before].filter(([k, h]) => !ignore?.test(k) && after.get(k) !== h).map(([k]) => k);
}

/** An executor that must never be reached: a bad input must stop before any run. */
const noRuns: Executor = {
  name: 'must-not-run',
  run: async (tasks) => {
    throw new Error(`a run started (${tasks.length} task(s)) although the input was bad`);
  },
};

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

interface CliCase {
  argv: string[];
  env?: Record<string, string>;
  /** Expected exit code (2 = usage or config error). */
  code?: number;
  /** What stderr must say (the flag, field, file or value at fault). */
  match: RegExp;
  /** Use the real experiments (plans validated, runs refused) instead of the toy. */
  real?: boolean;
  /** Results already written there must survive unchanged. */
  keep?: string;
  keepIgnore?: RegExp;
  experiments?: AnyExperiment[];
  executor?: Executor;
  /** Where the message is expected: stderr (default) or stdout (a failed run's report). */
  on?: 'stderr' | 'stdout';
  timeoutMs?: number;
}

/** One in-process CLI case, judged as described at the top. */
async function cli(area: string, name: string, c: CliCase): Promise<void> {
  const o = capture();
  const e = capture();
  const toy = toyExperiment();
  const experiments = c.experiments ?? (c.real ? [...EXPERIMENTS] : [toy]);
  const before = c.keep ? snapshot(c.keep) : undefined;
  const t0 = performance.now();
  let code: number | 'timeout';
  try {
    code = await withTimeout(
      main(c.argv, {
        stdout: o.stream,
        stderr: e.stream,
        env: c.env ?? {},
        experiments,
        executor: c.executor ?? (c.real ? noRuns : new InlineExecutor(experiments)),
        signals: false,
      }),
      c.timeoutMs ?? 30_000,
    );
  } catch (err) {
    record(area, name, STACK.test(String((err as Error).stack)) ? 'stack' : 'wrong', `main threw: ${err}`);
    return;
  }
  const ms = performance.now() - t0;
  const out = o.text();
  const err = e.text();
  const text = c.on === 'stdout' ? out : err;
  if (code === 'timeout') return record(area, name, 'hang', `no exit after ${ms.toFixed(0)} ms`);
  if (STACK.test(out) || STACK.test(err)) return record(area, name, 'stack', err || out);
  const want = c.code ?? 2;
  if (code !== want) return record(area, name, 'wrong', `exit ${code}, expected ${want}; stderr: ${err}`);
  if (!c.match.test(text))
    return record(area, name, 'wrong', `message ${JSON.stringify(text)} !~ ${c.match}`);
  if (want === 2 && err.trim().split('\n').length !== 1) {
    return record(area, name, 'wrong', `expected one stderr line, got ${JSON.stringify(err)}`);
  }
  if (before && c.keep) {
    const lost = changed(before, snapshot(c.keep), c.keepIgnore);
    if (lost.length > 0) return record(area, name, 'wrong', `files changed or lost: ${lost.join(', ')}`);
  }
  record(area, name, 'clear');
}

/** A spawned CLI case (the built dist/cli.js through a shell). */
async function spawned(
  area: string,
  name: string,
  shell: string,
  c: {
    code: number;
    match: RegExp;
    on?: 'stderr' | 'stdout';
    env?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<void> {
  const child = spawn('bash', ['-c', shell], {
    cwd: appDir,
    env: { ...process.env, GCVI_BACKEND: '', GCVI_PROFILE: '', GCVI_GENERATOR: '', ...c.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  const code = await withTimeout(exited, c.timeoutMs ?? 60_000);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    return record(area, name, 'hang', shell);
  }
  if (STACK.test(out) || STACK.test(err)) return record(area, name, 'stack', err || out);
  if (code !== c.code) return record(area, name, 'wrong', `exit ${code}, expected ${c.code}: ${err}`);
  if (!c.match.test(c.on === 'stdout' ? out : err)) {
    return record(area, name, 'wrong', `${JSON.stringify(c.on === 'stdout' ? out : err)} !~ ${c.match}`);
  }
  record(area, name, 'clear');
}

/** A call that must throw a typed gcvi error whose message matches. */
async function throws(area: string, name: string, f: () => unknown, match: RegExp): Promise<void> {
  const n0 = tf.memory().numTensors;
  try {
    const v = await f();
    if (v && typeof (v as { dispose?: unknown }).dispose === 'function') (v as { dispose(): void }).dispose();
    record(area, name, 'wrong', `returned ${String(v)} instead of throwing`);
  } catch (e) {
    if (!(e instanceof GcviError)) return record(area, name, 'wrong', `untyped ${String(e)}`);
    if (!match.test(e.message)) return record(area, name, 'wrong', `${e.message} !~ ${match}`);
    if (STACK.test(e.message)) return record(area, name, 'stack', e.message);
    record(area, name, 'clear');
  }
  void n0;
}

/** A call that must return the right number (|got − ref| ≤ atol + rtol |ref|). */
function value(area: string, name: string, got: () => number, ref: number, atol: number, rtol = 0): void {
  let v: number;
  try {
    v = got();
  } catch (e) {
    record(area, name, 'wrong', `threw ${String(e)}`);
    return;
  }
  const ok =
    ref === v || (Number.isNaN(ref) && Number.isNaN(v)) || Math.abs(v - ref) <= atol + rtol * Math.abs(ref);
  record(area, name, ok ? 'clear' : 'wrong', ok ? '' : `got ${v}, reference ${ref}`);
}

// --------------------------------------------------------------------------------------------
// Fixtures written by the suite.

const f = (name: string, content: string | Uint8Array) => {
  const p = join(tmp, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
};
const goodCkpt = torchCheckpointBytes(smallGeneratorStateDict(4));

function damagedCheckpoints(): [string, string, RegExp][] {
  const entries: Record<string, Uint8Array> = {};
  // Rebuild entries from the writer's state dict so each damage is one change.
  const sd = smallGeneratorStateDict(4);
  const nan = { ...sd, '2.bias': { shape: [4], data: [0, Number.NaN, 0, 0] } };
  const inf = {
    ...sd,
    '4.bias': { shape: [784], data: Array.from({ length: 784 }, (_, i) => (i === 7 ? Infinity : 0)) },
  };
  const wrongShape = { ...sd, '2.weight': { shape: [4, 5], data: new Array(20).fill(0) } };
  const missing: Record<string, { shape: number[]; data: number[] }> = Object.fromEntries(
    Object.entries(sd).filter(([k]) => k !== '4.bias'),
  ) as never;
  const flipped = goodCkpt.slice();
  flipped[Math.floor(flipped.length / 2)] = (flipped[Math.floor(flipped.length / 2)] as number) ^ 0x40;
  void entries;
  const out: [string, string, RegExp][] = [
    ['empty file', f('ckpt/empty.ckpt', ''), /not a zip archive|not a readable zip/],
    [
      'a text file',
      f('ckpt/text.ckpt', 'hello, this is not a checkpoint\n'),
      /not a zip archive|not a readable zip/,
    ],
    ['truncated to half', f('ckpt/half.ckpt', goodCkpt.subarray(0, goodCkpt.length >> 1)), /zip/],
    ['last 10 bytes cut', f('ckpt/cut.ckpt', goodCkpt.subarray(0, goodCkpt.length - 10)), /zip/],
    ['a bit flipped mid-file', f('ckpt/flip.ckpt', flipped), /damaged \(CRC-32|zip|data\.pkl/],
    ['a zip without data.pkl', f('ckpt/nopkl.ckpt', storedZip({ 'a/b': new Uint8Array(4) })), /no data\.pkl/],
    ['a NaN weight', f('ckpt/nan.ckpt', torchCheckpointBytes(nan)), /'2\.bias' holds NaN at element 1/],
    [
      'an Infinity weight',
      f('ckpt/inf.ckpt', torchCheckpointBytes(inf)),
      /'4\.bias' holds Infinity at element 7/,
    ],
    [
      'a wrong shape',
      f('ckpt/shape.ckpt', torchCheckpointBytes(wrongShape)),
      /'2\.weight': expected shape \[4, 4\]/,
    ],
    ['a missing tensor', f('ckpt/missing.ckpt', torchCheckpointBytes(missing)), /no '4\.bias'/],
    [
      'a pickle cut short',
      f('ckpt/pkl.ckpt', storedZip({ 'archive/data.pkl': new Uint8Array([0x80, 2, 0x63]) })),
      /data\.pkl at byte/,
    ],
  ];
  return out;
}

// --------------------------------------------------------------------------------------------

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('bad-input suite', () => {
  it('CLI flags and commands', async () => {
    const A = 'cli';
    const dirFile = f('a-file', 'x');
    for (const [argv, match] of [
      [['reproduce', '--profile', 'huge'], /--profile: unknown profile 'huge'/],
      [['reproduce', '--profile', ''], /--profile: unknown profile ''/],
      [['reproduce', '--profile', 'QUICK'], /--profile: unknown profile 'QUICK'/],
      [['reproduce', '--backend', 'gpu'], /--backend.*'gpu' is invalid/],
      [['reproduce', '--backend', 'WASM'], /--backend.*'WASM' is invalid/],
      [['reproduce', '--backend', ''], /--backend.*'' is invalid/],
      [['reproduce', '--workers', '-1'], /--workers: must be a non-negative integer/],
      [['reproduce', '--workers', '1.5'], /--workers: .*'1\.5'/],
      [['reproduce', '--workers', 'two'], /--workers: .*'two'/],
      [['reproduce', '--workers', '999'], /--workers: must be at most \d+ .*'999'/],
      [['reproduce', '--workers', '1e3'], /--workers: .*'1e3'/],
      [['reproduce', '--workers', ''], /--workers: .*''/],
      [['reproduce', '--workers', '99999999999999999999'], /--workers: .*'99999999999999999999'/],
      [['reproduce', '--only', 'e7'], /--only: unknown experiment 'e7'/],
      [['reproduce', '--only', ','], /--only: needs a comma-separated list/],
      [['reproduce', '--only', 'toy,e9'], /--only: unknown experiment 'e9'/],
      [['reproduce', '--stale-after', '1s'], /--stale-after: must be a duration of at least 2 s/],
      [['reproduce', '--stale-after', 'soon'], /--stale-after: .*'soon'/],
      [['reproduce', '--stale-after', '-5s'], /--stale-after: .*'-5s'/],
      [['reproduce', '--stale-after', '0'], /--stale-after: .*'0'/],
      [['reproduce', '--stale-after', '10 parsecs'], /--stale-after: .*'10 parsecs'/],
      [['reproduce', '--progress', 'fancy'], /--progress.*'fancy' is invalid/],
      [['reproduce', '--executor', 'kubernetes'], /--executor.*'kubernetes' is invalid/],
      [['reproduce', '--executor', 'bullmq'], /--redis: is needed with --executor bullmq/],
      [['reproduce', '--executor', 'slurm'], /--emit: is needed with --executor slurm/],
      [['reproduce', '--redis', 'redis://x:1'], /--redis: needs --executor bullmq/],
      [['reproduce', '--attempts', '0'], /--attempts: must be an integer ≥ 1, got '0'/],
      [['reproduce', '--attempts', 'many'], /--attempts: .*'many'/],
      [['reproduce', '--backoff', 'later'], /--backoff: .*'later'/],
      [['reproduce', '--analyse-only', '--executor', 'slurm'], /--analyse-only: executes nothing/],
      [['reproduce', '--frobnicate'], /unknown option '--frobnicate'/],
      [['reproduce', '--out'], /option '--out <dir>' argument missing/],
      [['reproduce', '--plugin', ' '], /--plugin: needs a package name/],
      [
        ['reproduce', '--plugin', 'gcvi-no-such-plugin-xyz', '--out', join(tmp, 'o-plugin')],
        /gcvi-no-such-plugin-xyz/,
      ],
      [['reproduce', '--plugin', 'zod', '--out', join(tmp, 'o-plugin2')], /zod/],
      [
        ['reproduce', '--objective', 'nope', '--out', join(tmp, 'o-obj')],
        /--objective: unknown objective 'nope'/,
      ],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['run'], /missing required argument 'experiment'/],
      [['run', 'nope'], /^error: experiment: unknown 'nope' \(toy\)$/m],
      [['run', 'TOY'], /experiment: unknown 'TOY'/],
      [['list', '--profile', 'fast'], /--profile: unknown profile 'fast'/],
      [['list', '--out', dirFile], new RegExp(`--out: '${esc(dirFile)}' is a file, not a results folder`)],
      [['list', '--generator', '/no/such.ckpt'], /--generator: '\/no\/such\.ckpt' is neither 'trained'/],
      [['reproduce', '--out', dirFile], new RegExp(`--out: '${esc(dirFile)}' is a file`)],
      [
        ['reproduce', '--out', join(dirFile, 'sub')],
        /--out: cannot create the results folder .*a-file\/sub.*ENOTDIR/,
      ],
      [['reproduce', '--out', '/proc/gcvi-x'], /--out: cannot create the results folder '\/proc\/gcvi-x'/],
      [
        ['reproduce', '--out', '/proc/self/gcvi/deeper'],
        /--out: cannot create the results folder '\/proc\/self\/gcvi\/deeper'/,
      ],
      [['reproduce', '--out', '/sys/gcvi-x'], /--out: cannot create the results folder '\/sys\/gcvi-x'/],
      [['reproduce', '--out', ''], /--out: needs a folder path/],
      [
        ['reproduce', '--generator', '/no/such/G.ckpt'],
        /--generator: '\/no\/such\/G\.ckpt' is neither 'trained' nor an existing checkpoint file/,
      ],
      [['reproduce', '--generator', tmp], /--generator: '.*' is a folder, not a checkpoint file/],
      [['reproduce', '--generator', ''], /--generator: needs 'trained' or a checkpoint path/],
    ] as [string[], RegExp][]) {
      await cli(A, argv.join(' '), { argv, match });
    }
    // The real experiments: `run e9` names the experiments, profile settings are checked against
    // each experiment's schema, and nothing runs.
    await cli(A, 'run e9 (real experiments)', {
      argv: ['run', 'e9'],
      real: true,
      match: /^error: experiment: unknown 'e9' \(e1, e2, e3, e4\)$/m,
    });
    await cli(A, 'reproduce --only e9 (real)', {
      argv: ['reproduce', '--only', 'e9'],
      real: true,
      match: /--only: unknown experiment 'e9'; known: e1, e2, e3, e4/,
    });
  });

  it('environment variables', async () => {
    const A = 'env';
    await cli(A, 'GCVI_BACKEND=bogus', {
      argv: ['reproduce', '--profile', 'quick'],
      env: { GCVI_BACKEND: 'bogus' },
      match: /^error: GCVI_BACKEND: unknown backend 'bogus'; use one of auto, tensorflow, wasm, cpu$/m,
    });
    await cli(A, 'GCVI_BACKEND=WASM', {
      argv: ['reproduce'],
      env: { GCVI_BACKEND: 'WASM' },
      match: /GCVI_BACKEND: unknown backend 'WASM'/,
    });
    await cli(A, 'GCVI_BACKEND=gpu on run', {
      argv: ['run', 'toy'],
      env: { GCVI_BACKEND: 'gpu' },
      match: /GCVI_BACKEND: unknown backend 'gpu'/,
    });
    await cli(A, 'GCVI_BACKEND=tensorflow (not loadable here)', {
      argv: ['reproduce', '--profile', 'quick', '--out', join(tmp, 'o-tf')],
      env: { GCVI_BACKEND: 'tensorflow' },
      match: /^error: backend 'tensorflow': .*requested by GCVI_BACKEND/,
    });
    await cli(A, '--backend tensorflow (not loadable here)', {
      argv: ['reproduce', '--profile', 'quick', '--backend', 'tensorflow', '--out', join(tmp, 'o-tf2')],
      match: /^error: backend 'tensorflow': .*requested by the backend option/,
    });
    await cli(A, 'GCVI_PROFILE=fast', {
      argv: ['reproduce'],
      env: { GCVI_PROFILE: 'fast' },
      match: /GCVI_PROFILE: unknown profile 'fast'/,
    });
    await cli(A, 'GCVI_PROFILE=missing.json', {
      argv: ['list'],
      env: { GCVI_PROFILE: 'missing.json' },
      match: /GCVI_PROFILE: profile file 'missing\.json' does not exist/,
    });
    await cli(A, 'GCVI_GENERATOR=/nonexistent', {
      argv: ['reproduce', '--profile', 'quick'],
      env: { GCVI_GENERATOR: '/nonexistent' },
      match: /^error: GCVI_GENERATOR: '\/nonexistent' is neither 'trained' nor an existing checkpoint file$/m,
    });
    await cli(A, 'GCVI_GENERATOR=<folder>', {
      argv: ['list'],
      env: { GCVI_GENERATOR: tmp },
      match: /GCVI_GENERATOR: '.*' is a folder/,
    });
    await cli(A, 'GCVI_GENERATOR=<NaN checkpoint>', {
      argv: ['reproduce', '--profile', 'quick'],
      env: {
        GCVI_GENERATOR: f(
          'env/nan.ckpt',
          torchCheckpointBytes({
            ...smallGeneratorStateDict(4),
            '0.bias': { shape: [4], data: [Number.NaN, 0, 0, 0] },
          }),
        ),
      },
      match: /GCVI_GENERATOR: checkpoint .*nan\.ckpt: '0\.bias' holds NaN at element 0/,
    });
    await cli(A, '--generator wins over a bad GCVI_GENERATOR', {
      argv: ['reproduce', '--generator', '/also/missing.ckpt'],
      env: { GCVI_GENERATOR: '/nonexistent' },
      match: /^error: --generator: '\/also\/missing\.ckpt'/,
    });
  });

  it('spawned CLI: EPIPE, --version, the /proc hang, turbo-style environment', async () => {
    const A = 'cli-process';
    const version = (JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string })
      .version;
    await spawned(A, '--version', `node ${cliJs} --version`, {
      code: 0,
      on: 'stdout',
      match: new RegExp(`^${esc(version)}\\n$`),
    });
    await spawned(
      A,
      'list | head -1 (EPIPE)',
      `node ${cliJs} list --profile quick --out ${join(tmp, 'o-epipe')} | head -c 1 >/dev/null; exit \${PIPESTATUS[0]}`,
      {
        code: 0,
        match: /^$/,
      },
    );
    await spawned(
      A,
      '--out /proc/x does not hang',
      `node ${cliJs} reproduce --profile quick --only e1 --out /proc/x`,
      {
        code: 2,
        match: /^error: --out: cannot create the results folder '\/proc\/x'/,
        timeoutMs: 60_000,
      },
    );
    await spawned(
      A,
      'GCVI_GENERATOR=/nonexistent reproduce',
      `node ${cliJs} reproduce --profile quick --only e3 --out ${join(tmp, 'o-gen')}`,
      {
        code: 2,
        env: { GCVI_GENERATOR: '/nonexistent' },
        match:
          /^error: GCVI_GENERATOR: '\/nonexistent' is neither 'trained' nor an existing checkpoint file\n$/,
      },
    );
    await spawned(
      A,
      'GCVI_BACKEND=bogus list still lists; reproduce refuses',
      `node ${cliJs} reproduce --profile quick --only e1 --out ${join(tmp, 'o-bogus')}`,
      {
        code: 2,
        env: { GCVI_BACKEND: 'bogus' },
        match: /^error: GCVI_BACKEND: unknown backend 'bogus'/,
      },
    );
  });

  it('profile files', async () => {
    const A = 'profile-file';
    const cases: [string, string, RegExp][] = [
      ['not JSON', '{ name: tiny', /is not valid JSON/],
      ['empty', '', /is not valid JSON/],
      ['an array', '[1, 2]', /expected object|Invalid input/i],
      ['no name', '{"base":"quick"}', /name:/],
      ['no base', '{"name":"tiny"}', /base:/],
      ['base bogus', '{"name":"tiny","base":"huge"}', /base:/],
      ['name with a slash', '{"name":"../evil","base":"quick"}', /name:/],
      ['name empty', '{"name":"","base":"quick"}', /name:/],
      ['name a number', '{"name":7,"base":"quick"}', /name:/],
      ['settings not an object', '{"name":"t","base":"quick","e1":5}', /e1:/],
      [
        'e1.widths a string',
        '{"name":"t","base":"quick","e1":{"widths":"64"}}',
        /profile\.e1.*widths|widths/,
      ],
      ['e1.steps negative', '{"name":"t","base":"quick","e1":{"steps":-4}}', /steps/],
      ['e1.steps fractional', '{"name":"t","base":"quick","e1":{"steps":2.5}}', /steps/],
      ['e1.widths empty', '{"name":"t","base":"quick","e1":{"widths":[]}}', /widths/],
      ['e1 unknown field', '{"name":"t","base":"quick","e1":{"stepz":4}}', /stepz|unrecognized|Unrecognized/],
      ['e1.seed negative', '{"name":"t","base":"quick","e1":{"seed":-1}}', /seed/],
      ['settings for e9', '{"name":"t","base":"quick","e9":{"x":1}}', /e9/],
    ];
    for (const [name, content, match] of cases) {
      const file = f(`profiles/${name.replace(/\W+/g, '_')}.json`, content);
      await cli(A, name, {
        argv: ['reproduce', '--profile', file, '--out', join(tmp, 'o-prof')],
        real: true,
        match: new RegExp(`${match.source}`),
      });
    }
    await cli(A, 'a folder named x.json', {
      argv: [
        'list',
        '--profile',
        mkdirSync(join(tmp, 'dir.json'), { recursive: true }) ?? join(tmp, 'dir.json'),
      ],
      match: /dir\.json/,
    });
  });

  it('generator checkpoints through the CLI and the loader', async () => {
    const A = 'checkpoint';
    for (const [name, file, match] of damagedCheckpoints()) {
      await cli(A, `--generator ${name}`, {
        argv: ['reproduce', '--profile', 'quick', '--generator', file, '--out', join(tmp, 'o-ckpt')],
        match: new RegExp(`^error: --generator: checkpoint ${esc(file)}: .*(${match.source})`),
      });
      await throws(
        A,
        `checkGeneratorCheckpoint: ${name}`,
        () => checkGeneratorCheckpoint(file),
        new RegExp(`^${esc(file)}: .*(${match.source})`),
      );
      // The loader the E3/E4 runs use refuses it too (with tensors on the cpu backend).
      await throws(
        A,
        `generatorFromStateDict(loadTorchCheckpoint): ${name}`,
        () => generatorFromStateDict(loadTorchCheckpoint(file), file),
        new RegExp(esc(file)),
      );
    }
    await throws(
      A,
      'loadTorchCheckpoint: absent file',
      () => loadTorchCheckpoint(join(tmp, 'absent.ckpt')),
      /absent\.ckpt: cannot read/,
    );
    await throws(
      A,
      'loadTorchCheckpoint: a folder',
      () => loadTorchCheckpoint(tmp),
      new RegExp(`${esc(tmp)}: cannot read`),
    );
  });

  it('tensor files (checkpoints, cached weights)', async () => {
    const A = 'tensor-file';
    const good = join(tmp, 'tf', 'good.bin');
    writeTensorFile(good, {
      kind: 'test/k',
      meta: { a: 1 },
      tensors: { w: { shape: [3, 4], dtype: 'float32', values: new Float32Array(12).fill(0.5) } },
    });
    const bytes = readFileSync(good);
    const variants: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['one byte', bytes.subarray(0, 1)],
      ['header only', bytes.subarray(0, 16)],
      ['truncated by 1 byte', bytes.subarray(0, bytes.length - 1)],
      ['truncated to half', bytes.subarray(0, bytes.length >> 1)],
      ['one extra byte', Buffer.concat([bytes, Buffer.from([0])])],
      ['text', Buffer.from('not a tensor file at all\n')],
    ];
    for (const at of [0, 4, 9, Math.floor(bytes.length / 2), bytes.length - 3]) {
      const b = Uint8Array.from(bytes);
      b[at] = (b[at] as number) ^ 0x01;
      variants.push([`bit flipped at byte ${at}`, b]);
    }
    for (const [name, b] of variants) {
      const file = f(`tf/${name.replace(/\W+/g, '_')}.bin`, b);
      await throws(A, name, () => readTensorFile(file, { kind: 'test/k' }), new RegExp(`^${esc(file)}: `));
    }
    await throws(
      A,
      'wrong kind',
      () => readTensorFile(good, { kind: 'gcvi/generator' }),
      new RegExp(`^${esc(good)}: holds 'test/k', expected 'gcvi/generator'`),
    );
    await throws(A, 'absent', () => readTensorFile(join(tmp, 'tf', 'absent.bin')), /absent\.bin: /);
  });

  it('run folders: damaged run files and claims', async () => {
    const A = 'run-folder';
    // A finished quick toy profile (2 runs), and one with a partial run (checkpoint at step 5, crash at 7).
    const pristine = join(tmp, 'rf-pristine');
    const toy = toyExperiment();
    const ok = await main(['reproduce', '--profile', 'quick', '--out', pristine, '--progress', 'none'], {
      stdout: capture().stream,
      stderr: capture().stream,
      env: {},
      experiments: [toy],
      executor: new InlineExecutor([toy]),
      signals: false,
    });
    expect(ok).toBe(0);
    const runsDir = join(pristine, 'quick', 'runs', 'toy');
    const ids = readdirSync(runsDir).sort();
    expect(ids).toHaveLength(2);
    let k = 0;
    const damage = async (
      name: string,
      what: (run: string, root: string) => string,
      expectMatch: (file: string) => RegExp,
      code = 2,
    ) => {
      const root = join(tmp, `rf-${k++}`);
      cpSync(pristine, root, { recursive: true });
      const run = join(root, 'quick', 'runs', 'toy', ids[0] as string);
      const file = what(run, root);
      await cli(A, name, {
        argv: ['reproduce', '--profile', 'quick', '--out', root, '--progress', 'none'],
        match: expectMatch(file),
        code,
        ...(code === 0 ? { on: 'stdout' as const } : {}),
        keep: root,
        // The report files are rewritten by a run that gets as far as the report.
        keepIgnore: /^quick\/(summary\.json|invocation\.json|report\.(md|html)|figures\/|tables\/)/,
      });
    };
    const named = (file: string) => new RegExp(esc(file));
    const files = ['summary.json', 'config.json', 'run-meta.json'];
    for (const name of files) {
      await damage(`${name}: not JSON`, (run) => f(relative(tmp, join(run, name)), '{"half'), named);
      await damage(`${name}: empty`, (run) => f(relative(tmp, join(run, name)), ''), named);
      await damage(`${name}: JSON null`, (run) => f(relative(tmp, join(run, name)), 'null'), named);
      await damage(
        `${name}: a folder instead`,
        (run) => {
          const p = join(run, name);
          rmSync(p);
          mkdirSync(p);
          return p;
        },
        named,
      );
    }
    await damage(
      'config.json: another config (hash mismatch)',
      (run) => {
        const p = join(run, 'config.json');
        const c = JSON.parse(readFileSync(p, 'utf8'));
        writeFileSync(p, JSON.stringify({ ...c, config: { ...c.config, n: c.config.n + 1 } }));
        return p;
      },
      named,
    );
    await damage(
      'config.json: no config field',
      (run) => f(relative(tmp, join(run, 'config.json')), '{"conf": {}}'),
      named,
    );
    await damage(
      'config.json: an unknown config field',
      (run) => {
        const p = join(run, 'config.json');
        const c = JSON.parse(readFileSync(p, 'utf8'));
        writeFileSync(p, JSON.stringify({ ...c, config: { ...c.config, extra: 1 } }));
        return p;
      },
      named,
    );
    await damage(
      'summary.json: names another run',
      (run) => {
        const p = join(run, 'summary.json');
        const c = JSON.parse(readFileSync(p, 'utf8'));
        writeFileSync(p, JSON.stringify({ ...c, id: 'deadbeef' }));
        return p;
      },
      named,
    );
    await damage(
      'run-meta.json: wallSeconds a string',
      (run) => {
        const p = join(run, 'run-meta.json');
        const c = JSON.parse(readFileSync(p, 'utf8'));
        writeFileSync(p, JSON.stringify({ ...c, wallSeconds: 'fast' }));
        return p;
      },
      named,
    );
    await damage(
      'config.json: a field of the wrong type',
      (run) => {
        const p = join(run, 'config.json');
        const c = JSON.parse(readFileSync(p, 'utf8'));
        writeFileSync(p, JSON.stringify({ ...c, config: { ...c.config, n: 'twenty' } }));
        return p;
      },
      named,
    );
    await damage(
      'summary.json: result of the wrong shape',
      (run) => f(relative(tmp, join(run, 'summary.json')), '{"mean":"zero"}'),
      named,
    );
    await damage(
      'metrics.jsonl: garbage line in the middle',
      (run) => {
        const p = join(run, 'metrics.jsonl');
        const lines = readFileSync(p, 'utf8').split('\n');
        lines.splice(3, 0, '{"kind": garbage');
        writeFileSync(p, lines.join('\n'));
        return p;
      },
      named,
    );
    await damage(
      'metrics.jsonl: binary junk',
      (run) => f(relative(tmp, join(run, 'metrics.jsonl')), new Uint8Array([0, 255, 1, 10, 7, 8])),
      named,
    );
    await damage(
      'claims: a lock file that is a folder',
      (run, root) => {
        const p = join(root, 'quick', 'claims', 'toy', `${ids[0]}.lock`);
        mkdirSync(p, { recursive: true });
        void run;
        return p;
      },
      () => /claims: \d+ PASS, 0 FAIL; runs: 2 planned, 0 failed\n/,
      0,
    );

    // A partial run with a damaged checkpoint: the run fails with a message naming the file, no stack frames, exit 1.
    const partial = join(tmp, 'rf-partial');
    const toy2 = toyExperiment();
    toy2.failAt = 7;
    await main(['reproduce', '--profile', 'quick', '--out', partial, '--progress', 'none'], {
      stdout: capture().stream,
      stderr: capture().stream,
      env: {},
      experiments: [toy2],
      executor: new InlineExecutor([toy2]),
      signals: false,
    });
    const pRuns = readdirSync(join(partial, 'quick', 'runs', 'toy'));
    const pRun = pRuns
      .map((id) => join(partial, 'quick', 'runs', 'toy', id))
      .find((d) => !existsSync(join(d, 'summary.json')));
    expect(pRun).toBeDefined();
    const ckpt = join(pRun as string, 'checkpoint.bin');
    expect(existsSync(ckpt)).toBe(true);
    const cb = readFileSync(ckpt);
    for (const [name, bytes] of [
      ['truncated', cb.subarray(0, cb.length - 4)],
      [
        'bit flipped',
        (() => {
          const b = Uint8Array.from(cb);
          b[b.length - 2] = (b[b.length - 2] as number) ^ 4;
          return b;
        })(),
      ],
      ['empty', new Uint8Array(0)],
    ] as [string, Uint8Array][]) {
      const root = join(tmp, `rf-p-${name.replace(/\W+/g, '_')}`);
      cpSync(partial, root, { recursive: true });
      const rc = join(root, relative(partial, ckpt));
      writeFileSync(rc, bytes);
      const other = pRuns
        .map((id) => join(root, 'quick', 'runs', 'toy', id))
        .find((d) => existsSync(join(d, 'summary.json')));
      await cli(A, `partial run, checkpoint ${name}`, {
        argv: ['reproduce', '--profile', 'quick', '--out', root, '--progress', 'none'],
        code: 1,
        on: 'stdout',
        match: new RegExp(`run FAILED: toy .*\\n  .*${esc(rc)}: `),
        keep: other,
      });
    }
    // A failed run prints its message, not stack frames (and the closing summary).
    const failing = toyExperiment();
    failing.failAt = 2;
    await cli(A, 'a run that throws: message, no frames, summary at the end', {
      argv: ['reproduce', '--profile', 'quick', '--out', join(tmp, 'rf-fail'), '--progress', 'none'],
      experiments: [failing],
      code: 1,
      on: 'stdout',
      match:
        /run FAILED: toy n \d+ seed \d id \w+ seed \d\n {2}Error: toy: simulated crash at step 2\n[\s\S]*claims: \d+ PASS, \d+ FAIL.*runs: 2 planned, 1 failed\nresults: .*rf-fail\/quick \(report: .*report\.md\)\n$/,
    });
  });

  it('public numerics', async () => {
    const A = 'numerics';
    const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const v of bad) {
      await throws(A, `Normal(loc ${v})`, () => new Normal(v, 1), /loc/);
      await throws(A, `Normal(scale ${v})`, () => new Normal(0, v), /scale/);
      await throws(A, `VonMises(loc ${v})`, () => new VonMises(v, 1), /loc/);
      await throws(A, `VonMises(concentration ${v})`, () => new VonMises(0, v), /concentration/);
      await throws(A, `Uniform(low ${v})`, () => new Uniform(v, 1), /low/);
      await throws(A, `Normal.fromNatural(eta1 ${v})`, () => Normal.fromNatural(v, -1), /eta1/);
      await throws(A, `Normal(loc tensor with ${v})`, () => new Normal(tf.tensor1d([0, v]), 1), /loc/);
    }
    for (const s of [0, -1, -1e-30]) await throws(A, `Normal(scale ${s})`, () => new Normal(0, s), /scale/);
    for (const k of [-1, -1e-12])
      await throws(A, `VonMises(concentration ${k})`, () => new VonMises(0, k), /concentration/);
    for (const e2 of [0, 1e-8, 3, Number.NaN]) {
      await throws(A, `Normal.fromNatural(eta2 ${e2})`, () => Normal.fromNatural(1, e2), /eta2/);
    }
    await throws(
      A,
      'Normal.fromNatural(eta2 tensor with one 0)',
      () => Normal.fromNatural(tf.tensor1d([1, 1]), tf.tensor1d([-1, 0])),
      /eta2.*flat index 1/,
    );
    await throws(A, 'Uniform(low ≥ high)', () => new Uniform(2, 1), /low|high/);
    await throws(A, 'Normal(loc a string)', () => new Normal('0' as never, 1), /loc/);
    await throws(
      A,
      'Categorical(NaN logits)',
      () => new Categorical({ logits: tf.tensor1d([0, Number.NaN]) }),
      /logits/,
    );
    await throws(
      A,
      'Categorical(negative probs)',
      () => new Categorical({ probs: tf.tensor1d([0.5, -0.5]) } as never),
      /probs/,
    );
    await throws(
      A,
      'MVN.fromLocCovariance(not SPD)',
      () => MultivariateNormal.fromLocCovariance([0, 0], [1, 2, 2, 1]),
      /covariance|positive|definite/i,
    );
    await throws(
      A,
      'MVN.fromLocCovariance(wrong size)',
      () => MultivariateNormal.fromLocCovariance([0, 0], [1, 0, 0]),
      /covariance/,
    );
    await throws(
      A,
      'MVN.fromNatural(zero diagonal)',
      () =>
        MultivariateNormal.fromNatural(
          tf.tensor1d([0, 0]),
          tf.tensor2d([
            [0, 0],
            [0, 1],
          ]),
        ),
      /precisionTril/,
    );
    await throws(
      A,
      'MVN.fromNatural(NaN diagonal)',
      () =>
        MultivariateNormal.fromNatural(
          tf.tensor1d([0, 0]),
          tf.tensor2d([
            [Number.NaN, 0],
            [0, 1],
          ]),
        ),
      /precisionTril/,
    );

    // Huge but valid parameters: the right value, not NaN. References in float64.
    const vmEntropyRef = (k: number) =>
      logI0eNumber(k) + k * oneMinusI1OverI0Number(k) + Math.log(2 * Math.PI);
    // Independent float64 reference by quadrature (no series shared with the implementation):
    // I0 e^{−κ} = (1/π) ∫₀^π e^{−2κ sin²(θ/2)} dθ and κ(1 − A) = κ ∫ 2 sin²(θ/2) w / ∫ w, with
    // θ = t/√κ (Simpson on t ∈ [0, min(π√κ, 60)], 40,000 intervals), so
    // H = log 2π + log(I0 e^{−κ}) + κ(1 − A) and log I0 = κ + log(I0 e^{−κ}).
    const quad = (k: number) => {
      const s = Math.sqrt(k);
      const T = Math.min(Math.PI * s, 60);
      const n = 40_000;
      const h = T / n;
      let w0 = 0;
      let w1 = 0;
      for (let i = 0; i <= n; i++) {
        const th = (i * h) / s;
        const sn = Math.sin(th / 2);
        const q = 2 * sn * sn;
        const w = Math.exp(-k * q) * (i === 0 || i === n ? 1 : i % 2 ? 4 : 2);
        w0 += w;
        w1 += w * q;
      }
      const logI0e = Math.log((w0 * h) / 3 / s / Math.PI);
      return { logI0e, entropy: Math.log(2 * Math.PI) + logI0e + (k * w1) / w0 };
    };
    const vmAsym = (k: number) => quad(k).entropy;
    for (const k of [1e3, 1e6, 1e8, 1e12]) {
      value(
        A,
        `VonMises(κ=${k}).entropy() vs quadrature`,
        () => {
          const d = new VonMises(0, k);
          const h = d.entropy();
          const v = h.dataSync()[0] as number;
          h.dispose();
          d.dispose();
          return v;
        },
        vmAsym(k),
        2e-6,
        2e-6,
      );
      value(
        A,
        `float64 entropy formula at κ=${k} vs quadrature`,
        () => vmEntropyRef(k),
        vmAsym(k),
        1e-10,
        1e-12,
      );
    }
    // Small κ: entropy against a grid integral of −p log p.
    for (const k of [1e-6, 0.5, 7]) {
      const n = 200_000;
      let s = 0;
      const logZ = Math.log(2 * Math.PI) + logI0Number(k);
      for (let i = 0; i < n; i++) {
        const x = -Math.PI + ((i + 0.5) * 2 * Math.PI) / n;
        const lp = k * Math.cos(x) - logZ;
        s -= Math.exp(lp) * lp;
      }
      value(
        A,
        `VonMises(κ=${k}).entropy() vs grid integral`,
        () => {
          const d = new VonMises(0, k);
          const h = d.entropy();
          const v = h.dataSync()[0] as number;
          h.dispose();
          d.dispose();
          return v;
        },
        (s * 2 * Math.PI) / n,
        2e-5,
        1e-5,
      );
    }
    value(
      A,
      'logI0Number(Infinity) = Infinity',
      () => logI0Number(Number.POSITIVE_INFINITY),
      Number.POSITIVE_INFINITY,
      0,
    );
    value(
      A,
      'logI0Number(-Infinity) = Infinity',
      () => logI0Number(Number.NEGATIVE_INFINITY),
      Number.POSITIVE_INFINITY,
      0,
    );
    value(A, 'logI0Number(NaN) = NaN (documented)', () => logI0Number(Number.NaN), Number.NaN, 0);
    value(
      A,
      'logI0eNumber(Infinity) = -Infinity',
      () => logI0eNumber(Number.POSITIVE_INFINITY),
      Number.NEGATIVE_INFINITY,
      0,
    );
    value(A, 'i1OverI0Number(Infinity) = 1', () => i1OverI0Number(Number.POSITIVE_INFINITY), 1, 0);
    value(A, 'i1OverI0Number(-Infinity) = -1', () => i1OverI0Number(Number.NEGATIVE_INFINITY), -1, 0);
    // log I0 at large κ vs the asymptotic series κ − ½ log(2πκ) + log(1 + 1/(8κ) + 9/(128κ²)).
    for (const k of [30, 1e3, 1e8, 1e14]) {
      value(A, `logI0eNumber(${k}) vs quadrature`, () => logI0eNumber(k), quad(k).logI0e, 1e-11, 1e-11);
    }
    value(A, 'logI0Number(1e300) finite, = κ − ½ log(2πκ)', () => logI0Number(1e300), 1e300, 0, 1e-15);
    value(
      A,
      'Normal(0, 1e30).logProb(0)',
      () => {
        const d = new Normal(0, 1e30);
        const t = d.logProb(tf.scalar(0));
        const v = t.dataSync()[0] as number;
        t.dispose();
        d.dispose();
        return v;
      },
      -0.5 * Math.log(2 * Math.PI) - Math.log(1e30),
      1e-4,
      1e-6,
    );

    // fit(): options and a custom schedule's learning rates.
    const problem = {
      simulate: (n: number, rng: { normalTensor(shape: number[]): tf.Tensor }) =>
        tf.tidy(() => {
          const theta = rng.normalTensor([n]);
          return { theta, x: tf.reshape(tf.add(theta, rng.normalTensor([n])), [n, 1]) };
        }),
    };
    const base = () => {
      const params = { b: tf.variable(tf.scalar(0)), d: tf.variable(tf.scalar(0)) };
      return {
        params,
        variational: (p: typeof params, x: tf.Tensor) =>
          new Normal(tf.add(tf.mul(tf.reshape(x, [-1]), 0), p.b), tf.exp(p.d), { validateArgs: false }),
        objective: forwardKl,
        problem,
        optimizer: adam(),
        steps: 3,
        batchSize: 8,
        rng: createRng(1).split('t'),
      };
    };
    const fitCase = async (
      name: string,
      opts: (b: ReturnType<typeof base>) => Record<string, unknown>,
      match: RegExp,
    ) => {
      const b = base();
      try {
        // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
        await throws(A, `fit: ${name}`, () => fit(opts(b) as never), match);
      } finally {
        tf.dispose(Object.values(b.params));
      }
    };
    const sched = (lr: (n: number) => number) => ({ description: 'custom', lr });
    for (const [label, lr, at] of [
      ['NaN', () => Number.NaN, 0],
      ['Infinity', () => Number.POSITIVE_INFINITY, 0],
      ['-Infinity', () => Number.NEGATIVE_INFINITY, 0],
      ['negative', () => -0.01, 0],
      ['NaN at step 2', (n: number) => (n === 2 ? Number.NaN : 0.01), 2],
      ['negative at step 1', (n: number) => (n >= 1 ? -1 : 0.01), 1],
      ['a string', () => '0.1' as unknown as number, 0],
      ['undefined', () => undefined as unknown as number, 0],
    ] as [string, (n: number) => number, number][]) {
      await fitCase(
        `schedule returning ${label}`,
        (b) => ({ ...b, schedule: sched(lr) }),
        new RegExp(`^schedule: .*at step ${at}; a learning rate must be a finite number >= 0`),
      );
    }
    await fitCase('steps 0', (b) => ({ ...b, steps: 0 }), /steps/);
    await fitCase('steps 2.5', (b) => ({ ...b, steps: 2.5 }), /steps/);
    await fitCase('steps NaN', (b) => ({ ...b, steps: Number.NaN }), /steps/);
    await fitCase('batchSize -8', (b) => ({ ...b, batchSize: -8 }), /batchSize/);
    await fitCase('clipNorm 0', (b) => ({ ...b, clipNorm: 0 }), /clipNorm/);
    await fitCase('clipNorm NaN', (b) => ({ ...b, clipNorm: Number.NaN }), /clipNorm/);
    await fitCase('historyEvery 0', (b) => ({ ...b, historyEvery: 0 }), /historyEvery/);
    await fitCase('maxNonFiniteInARow -1', (b) => ({ ...b, maxNonFiniteInARow: -1 }), /maxNonFiniteInARow/);
    await fitCase(
      'objective unknown by name',
      (b) => ({ ...b, objective: 'no-such-objective' }),
      /no-such-objective/,
    );
    await fitCase('variational not a function', (b) => ({ ...b, variational: 3 }), /variational/);
    await fitCase('problem missing', (b) => ({ ...b, problem: undefined }), /problem/);
    await fitCase('rng not an Rng', (b) => ({ ...b, rng: {} }), /rng/);
    await fitCase('schedule not a Schedule', (b) => ({ ...b, schedule: 0.1 }), /schedule/);
    for (const [name, s] of [
      ['constantLr(NaN)', () => constantLr(Number.NaN)],
      ['constantLr(-1)', () => constantLr(-1)],
      ['inverseTimeLr(Infinity)', () => inverseTimeLr(Number.POSITIVE_INFINITY)],
      ['stepDivideLr(0.1, 0)', () => stepDivideLr(0.1, 0)],
    ] as [string, () => unknown][]) {
      await throws(A, name, s, /lr|every|rate|scale/);
    }
  });

  it('closing line', () => {
    const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
    const byArea = new Map<string, number>();
    for (const r of results) byArea.set(r.area, (byArea.get(r.area) ?? 0) + 1);
    const bad = results.filter((r) => r.verdict !== 'clear');
    for (const r of bad)
      console.log(`[${r.verdict}] ${r.area}: ${r.name}\n    ${r.detail.split('\n').join('\n    ')}`);
    console.log(`by area: ${[...byArea].map(([a, n]) => `${a} ${n}`).join(', ')}`);
    const line = `bad inputs: ${results.length} tried, ${count('clear')} clear errors, ${count('stack')} stack traces, ${count('hang')} hangs, ${count('wrong')} silently wrong`;
    console.log(line);
    expect(results.length).toBeGreaterThanOrEqual(150);
    expect(line).toBe(
      `bad inputs: ${results.length} tried, ${results.length} clear errors, 0 stack traces, 0 hangs, 0 silently wrong`,
    );
  });
});
