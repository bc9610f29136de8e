/**
 * Results of one sweep compared with a reference run of the same profile, byte for byte: every
 * E1 run's files (except run-meta.json: times, hosts), the figures and summary.json; no metrics row
 * twice, no run claim left behind. Used by the queue, Slurm and Slurm-cluster tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FILES } from '../../src/index.js';

/** Run claims (lock files) left in a profile folder. */
export function claims(dir: string): string[] {
  const d = join(dir, 'claims', 'e1');
  return existsSync(d)
    ? readdirSync(d)
        .filter((f) => f.endsWith('.lock'))
        .map((f) => join(d, f))
    : [];
}

/** Every E1 run's files in `dir` (a profile folder) except run-meta.json (times, hosts), the figures and summary.json equal the reference's. */
export function expectSameAs(dir: string, refDir: string): void {
  expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(
    readFileSync(join(refDir, 'summary.json'), 'utf8'),
  );
  const ids = readdirSync(join(refDir, 'runs', 'e1')).sort();
  expect(readdirSync(join(dir, 'runs', 'e1')).sort()).toEqual(ids);
  for (const id of ids) {
    const files = readdirSync(join(refDir, 'runs', 'e1', id))
      .filter((f) => f !== FILES.meta)
      .sort();
    expect(files).toContain('checkpoint-full.bin');
    expect(
      readdirSync(join(dir, 'runs', 'e1', id))
        .filter((f) => f !== FILES.meta)
        .sort(),
    ).toEqual(files);
    for (const f of files) {
      expect(
        readFileSync(join(dir, 'runs', 'e1', id, f)).equals(readFileSync(join(refDir, 'runs', 'e1', id, f))),
        `${id}/${f}`,
      ).toBe(true);
    }
    // no duplicated metric rows
    const rows = readFileSync(join(dir, 'runs', 'e1', id, FILES.metrics), 'utf8')
      .trim()
      .split('\n');
    expect(new Set(rows).size, `${id}: duplicate metrics rows`).toBe(rows.length);
  }
  const figs = readdirSync(join(refDir, 'figures')).sort();
  expect(figs.length).toBeGreaterThan(0);
  expect(readdirSync(join(dir, 'figures')).sort()).toEqual(figs);
  for (const f of figs) {
    expect(readFileSync(join(dir, 'figures', f)).equals(readFileSync(join(refDir, 'figures', f))), f).toBe(
      true,
    );
  }
  expect(claims(dir), 'claims left behind').toEqual([]);
}
