import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { smallGeneratorStateDict, torchCheckpointBytes } from '../../../test-support/torch-checkpoint.js';
import { main, resolveProfile } from '../src/cli.js';
import { InlineExecutor } from '../src/index.js';
import { capture } from './fixtures/capture.js';
import { toyExperiment } from './fixtures/toy.js';

const out = mkdtempSync(join(tmpdir(), 'gcvi-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function cli(argv: string[], env: Record<string, string> = {}) {
  const o = capture();
  const e = capture();
  const toy = toyExperiment();
  const code = await main(argv, {
    stdout: o.stream,
    stderr: e.stream,
    env,
    experiments: [toy],
    executor: new InlineExecutor([toy]),
  });
  return { code, out: o.text(), err: e.text(), toy };
}

describe('CLI options', () => {
  it('profile: option > GCVI_PROFILE > default', () => {
    expect(resolveProfile(undefined, {})).toBe('default');
    expect(resolveProfile(undefined, { GCVI_PROFILE: 'quick' })).toBe('quick');
    expect(resolveProfile('paper', { GCVI_PROFILE: 'quick' })).toBe('paper');
    expect(() => resolveProfile(undefined, { GCVI_PROFILE: 'fast' })).toThrow(
      /GCVI_PROFILE: unknown profile 'fast'/,
    );
  });

  it.each([
    [['reproduce', '--profile', 'huge'], /--profile: unknown profile 'huge'/],
    [['reproduce', '--workers', '-1'], /--workers: must be a non-negative integer/],
    [['reproduce', '--workers', '1.5'], /--workers/],
    [['reproduce', '--backend', 'gpu'], /'--backend <name>' argument 'gpu' is invalid/],
    [['reproduce', '--only', 'e7'], /--only: unknown experiment 'e7'; known: toy/],
    [['reproduce', '--only', ','], /--only: needs a comma-separated list/],
    [['reproduce', '--frobnicate'], /unknown option '--frobnicate'/],
    [['reproduce', '--stale-after', '1s'], /--stale-after: must be a duration of at least 2 s/],
    [['reproduce', '--stale-after', 'soon'], /--stale-after: must be a duration/],
    [['reproduce', '--profile', 'nope.json'], /--profile: profile file 'nope.json' does not exist/],
    [['reproduce', '--plugin', ' '], /--plugin: needs a package name/],
    [['run', 'nope'], /^error: experiment: unknown 'nope' \(toy\)$/m],
    [
      ['reproduce', '--generator', '/no/such/G.ckpt'],
      /--generator: '\/no\/such\/G.ckpt' is neither 'trained' nor an existing checkpoint file/,
    ],
  ])('%j → exit 2 with one message naming the option', async (argv, message) => {
    const r = await cli(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('--generator reaches the plans through the plan context (no environment variable)', async () => {
    const own = mkdtempSync(join(tmpdir(), 'gcvi-cli-gen-'));
    try {
      const ckpt = join(own, 'G.ckpt');
      writeFileSync(ckpt, torchCheckpointBytes(smallGeneratorStateDict(4)));
      const r = await cli(['reproduce', '--profile', 'quick', '--generator', 'trained', '--out', own]);
      expect(r.code).toBe(0);
      expect(r.toy.contexts[0]).toMatchObject({
        generator: 'trained',
        profile: 'quick',
        profileName: 'quick',
      });
      expect(r.toy.contexts[0]!.outDir).toBe(join(own, 'quick'));
      const p = await cli(['list', '--profile', 'quick', '--generator', ckpt, '--out', own]);
      expect(p.toy.contexts[0]!.generator).toBe(ckpt);
      expect(process.env.GCVI_GENERATOR).toBeUndefined();
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('list shows the planned runs of the profile from GCVI_PROFILE and their status', async () => {
    const r = await cli(['list', '--out', out], { GCVI_PROFILE: 'quick' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^toy {2}Toy running mean/);
    expect(r.out).toMatch(/ new +toy n 20 seed 1/);
  });

  it('run <experiment> writes the results; a second run skips; --force redoes', async () => {
    const first = await cli(['run', 'toy', '--profile', 'quick', '--out', out, '--progress', 'lines']);
    expect(first.code, first.err).toBe(0);
    expect(first.toy.calls).toBe(2);
    const s = JSON.parse(readFileSync(join(out, 'quick', 'summary.json'), 'utf8'));
    expect(Object.keys(s.toy.mean).sort()).toEqual(['20', '30']);
    expect(s.claims.toy[0].status).toBe('pass');
    const md = readFileSync(join(out, 'quick', 'report.md'), 'utf8');
    expect(md).toContain('toy quick');
    expect(md).toContain('figures/toy-figure.png');
    expect(md).toMatch(/### Toy table\n\n\| n \| mean \|\n\|---:\|---:\|\n\| 20 \| -?\d\.\d{3} \|\n\| 30 \|/);
    const csv = readFileSync(join(out, 'quick', 'tables', 'toy-table.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('n,mean');
    expect(csv.slice(1).map((l) => Number(l.split(',')[1]))).toEqual([s.toy.mean['20'], s.toy.mean['30']]);
    expect(readFileSync(join(out, 'quick', 'tables', 'toy-table.md'), 'utf8')).toContain('# Toy table');
    const again = await cli(['run', 'toy', '--profile', 'quick', '--out', out]);
    expect(again.toy.calls).toBe(0);
    expect(again.out).toMatch(/2 run\(s\): 2 finished \(skipped\)/);
    const forced = await cli(['run', 'toy', '--profile', 'quick', '--out', out, '--force']);
    expect(forced.toy.calls).toBe(2);
    const listed = await cli(['list', '--profile', 'quick', '--out', out]);
    expect(listed.out.match(/ done +toy/g)).toHaveLength(2);
  });

  it('a failed run is reported with its id and seed, the exit code is 1, the others finish', async () => {
    const o = capture();
    const toy = toyExperiment();
    toy.failAt = 3;
    const code = await main(['reproduce', '--profile', 'default', '--out', out, '--progress', 'none'], {
      stdout: o.stream,
      stderr: o.stream,
      env: {},
      experiments: [toy],
      executor: new InlineExecutor([toy]),
    });
    expect(code).toBe(1);
    const s = JSON.parse(readFileSync(join(out, 'default', 'summary.json'), 'utf8'));
    expect(s.runs.failed).toHaveLength(1);
    expect(s.runs.failed[0].seed).toBe(2); // runs go largest first: n 300 (seed 2) hit failAt
    expect(s.toy.incomplete).toMatch(/1 of 2 runs failed/);
    const inv = JSON.parse(readFileSync(join(out, 'default', 'invocation.json'), 'utf8'));
    expect(inv.counts.executed).toBe(1);
  });

  it('an experiment whose analysis throws is reported; the other experiments still get their report', async () => {
    const o = capture();
    const good = toyExperiment();
    const bad = {
      ...toyExperiment(),
      id: 'broken',
      summarize: () => {
        throw new Error('no numbers');
      },
    };
    const code = await main(
      ['reproduce', '--profile', 'quick', '--out', join(out, 'mixed'), '--progress', 'none'],
      {
        stdout: o.stream,
        stderr: o.stream,
        env: {},
        experiments: [good, bad],
        executor: new InlineExecutor([good, bad]),
      },
    );
    expect(code).toBe(1);
    const s = JSON.parse(readFileSync(join(out, 'mixed', 'quick', 'summary.json'), 'utf8'));
    expect(s.analysisErrors).toEqual(['broken: no numbers']);
    expect(s.toy.mean['20']).toEqual(expect.any(Number));
    expect(readFileSync(join(out, 'mixed', 'quick', 'report.md'), 'utf8')).toContain(
      'analysis failed: no numbers',
    );
  });

  it('the package entry loads with require() from a CommonJS project (no top-level await in its graph)', () => {
    const cjs = mkdtempSync(join(tmpdir(), 'gcvi-cjs-'));
    try {
      writeFileSync(join(cjs, 'package.json'), '{"type":"commonjs"}');
      const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
      const printed = execFileSync(
        process.execPath,
        [
          '-e',
          `const m = require(${JSON.stringify(entry)}); console.log(typeof m.reproduce, typeof m.renderVegaLite)`,
        ],
        { cwd: cjs, encoding: 'utf8', timeout: 120_000 },
      );
      expect(printed.trim()).toBe('function function');
    } finally {
      rmSync(cjs, { recursive: true, force: true });
    }
  }, 150_000);
});
