import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `pnpm bench` flags: --help prints the usage, a bad flag is one line naming it (exit 2), never a stack trace.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('bench command line', () => {
  it('--help lists every option and exits 0 without benchmarking', () => {
    const r = bench('--help');
    expect(r.status).toBe(0);
    for (const f of [
      '--only',
      '--rounds',
      '--backends',
      '--e2-steps',
      '--e3-cases',
      '--torch-threads',
      '--out',
    ])
      expect(r.stdout).toContain(f);
  });

  it.each([
    [['--rounds', 'x'], "--rounds needs a positive integer, got 'x'"],
    [['--rounds', '0'], "--rounds needs a positive integer, got '0'"],
    [['--only', 'e1,e9'], "--only: unknown bench 'e9'"],
    [['--backends', 'webgpu'], "--backends: unknown backend 'webgpu'"],
    [['--e3-cases', 'nope'], "--e3-cases: unknown case 'nope'"],
    [['--bogus'], "unknown option '--bogus'"],
  ])('%j: one clear line, exit 2', (args, message) => {
    const r = bench(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
  });
});
