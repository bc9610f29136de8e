/**
 * Plugins end to end: `reproduce --only e1 --plugin @gcvi/objective-renyi --objective renyi` runs
 * E1 with the plugin's objective named in every E1 config (quick profile sized down by a profile
 * file: the same code path, seconds instead of minutes).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { e1RunResultSchema, e1SummarySchema } from '../src/experiments/e1/index.js';
import { capture } from './fixtures/capture.js';

const root = mkdtempSync(join(tmpdir(), 'gcvi-plugin-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const PROFILE = join(root, 'tiny.json');
writeFileSync(
  PROFILE,
  JSON.stringify({
    name: 'tiny',
    base: 'quick',
    e1: {
      widths: [16, 32],
      steps: 30,
      evalEvery: 10,
      trackEvery: 10,
      testSize: 40,
      trackSize: 4,
      checkpointEvery: 10,
    },
  }),
);

async function cli(argv: string[]) {
  const o = capture();
  const code = await main(argv, { stdout: o.stream, stderr: o.stream, signals: false });
  return { code, log: o.text() };
}

const base = (out: string) => [
  'reproduce',
  '--profile',
  PROFILE,
  '--only',
  'e1',
  '--out',
  out,
  '--workers',
  '0',
];

describe('objective plugins from the CLI', () => {
  // first: the default registry is per process, and the next test registers renyi in it
  it('an objective name is checked against the registry after the plugins load', async () => {
    const r = await cli([...base(join(root, 'x')), '--objective', 'renyi']);
    expect(r.code).toBe(2);
    expect(r.log).toMatch(/--objective: unknown objective 'renyi'; registered: elbo, forward-kl, iwbo/);
    const p = await cli([...base(join(root, 'y')), '--plugin', '@gcvi/no-such-plugin']);
    expect(p.code).toBe(2);
    expect(p.log).toMatch(/plugins\['@gcvi\/no-such-plugin'\]: could not import the plugin package/);
  });

  it('--plugin @gcvi/objective-renyi --objective renyi trains E1 with the Rényi bound', async () => {
    const out = join(root, 'renyi');
    const r = await cli([
      ...base(out),
      '--plugin',
      '@gcvi/objective-renyi',
      '--objective',
      'renyi',
      '--progress',
      'none',
    ]);
    expect(r.code, r.log).toBe(0);
    const dir = join(out, 'tiny');
    const runs = readdirSync(join(dir, 'runs', 'e1'));
    expect(runs).toHaveLength(2);
    for (const id of runs) {
      const cfg = JSON.parse(readFileSync(join(dir, 'runs', 'e1', id, 'config.json'), 'utf8'));
      expect(cfg.config.objective).toBe('renyi');
      const res = e1RunResultSchema.parse(
        JSON.parse(readFileSync(join(dir, 'runs', 'e1', id, 'summary.json'), 'utf8')).result,
      );
      expect(res.objective).toBe('renyi');
      // trained: the test NLL left log 2π (the uniform q at φ0) and is finite
      expect(Number.isFinite(res.finalTestNll.full)).toBe(true);
      expect(res.finalTestNll.full).not.toBeCloseTo(Math.log(2 * Math.PI), 3);
    }
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(e1SummarySchema.parse(s.e1).objective).toBe('renyi');
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(
      "Objective 'renyi' instead of the paper's L_P",
    );
  }, 300_000);
});
