import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toCsv } from '@gcvi/plots';
import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { quickReproduce } from '../../../test/fixtures/quick-run.js';
import { expectReadableReport, itInChromium, measureReport } from '../../../test/fixtures/report-layout.js';
import { parseWithSchema } from '../../core/validate.js';
import { ResultsStore } from '../../store/store.js';
import { type E2Config, e2ConfigSchema, planE2, profileSettings } from './config.js';
import { e2 } from './index.js';
import type { E2Run } from './summary.js';
import { table1 } from './table.js';
import { trainE2 } from './train.js';

/**
 * The test-command check of issue 5: `reproduce --profile quick --only e2` writes Table 1
 * (`tables/table-1.{csv,md}`, shown in the report beside the paper's claims) and Figure 2 from tiny
 * runs, and the summary keys.
 */
const planCtx = (profile: 'quick' | 'default' | 'paper') => ({
  profile,
  profileName: profile,
  outDir: '',
  generator: 'trained',
  backend: 'auto' as const,
});

describe('reproduce --profile quick --only e2', () => {
  const run = quickReproduce('e2');
  const dir = run.dir;

  it('exits 0 and runs seeds × objectives × parameterizations', () => {
    expect(run.code, run.log).toBe(0);
    const store = new ResultsStore(dir);
    expect(store.list('e2').length).toBe(profileSettings('quick').seeds.length * 4);
  });

  it('writes Table 1 to tables/table-1.{csv,md}: four cells with shares in [0, 1]', () => {
    const n = profileSettings('quick').seeds.length;
    const csvFile = join(dir, 'tables', 'table-1.csv');
    const mdFile = join(dir, 'tables', 'table-1.md');
    expect(existsSync(csvFile), csvFile).toBe(true);
    expect(existsSync(mdFile), mdFile).toBe(true);
    const [head, ...lines] = readFileSync(csvFile, 'utf8').trim().split('\n');
    const cols = head!.split(',');
    expect(cols.slice(0, 6)).toEqual([
      'objective',
      'parameterization',
      'replicates',
      'in_order',
      'in_order_share',
      'wilson95_low',
    ]);
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
    expect(rows.map((r) => `${r.objective}/${r.parameterization}`).sort()).toEqual([
      'elbo/mean',
      'elbo/natural',
      'forward-kl/mean',
      'forward-kl/natural',
    ]);
    for (const r of rows) {
      expect(Number(r.replicates)).toBe(n);
      for (const k of ['in_order_share', 'matched_share', 'wilson95_low', 'wilson95_high']) {
        const v = Number(r[k]);
        expect(r[k], k).not.toBe('');
        expect(Number.isFinite(v), `${k} ${r[k]}`).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(Number(r.in_order_share)).toBeCloseTo(Number(r.in_order) / n, 12);
    }
    const md = readFileSync(mdFile, 'utf8');
    for (const o of ['ELBO', 'L_P \\(forward KL\\)'])
      for (const p of ['mean', 'natural'])
        expect(md).toMatch(new RegExp(`^\\| ${o} \\| ${p} \\| ${n} \\| \\d+/${n} = [01]\\.\\d\\d \\[`, 'm'));
    expect(md).toContain('*Paper:* L_P recovers the increasing order');
    // Table 1 is a table, not a picture.
    expect(existsSync(join(dir, 'figures', 'table-1.svg'))).toBe(false);
  });

  it("report.md and report.html show Table 1 beside the paper's claims", () => {
    const table = readFileSync(join(dir, 'tables', 'table-1.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('|'));
    expect(table).toHaveLength(2 + 4);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const section = md.slice(md.indexOf('## E2'), md.indexOf('## Runs'));
    const at = section.indexOf(table.join('\n'));
    expect(at, 'the pipe table of tables/table-1.md inside the E2 section').toBeGreaterThan(0);
    const after = section.slice(at);
    expect(after).toMatch(/\*Paper:\* L_P recovers the increasing order/);
    expect(after).toMatch(/- (PASS|FAIL|n\/a): Table 1: L_P recovers the increasing order/);
    expect(after).toMatch(/- (PASS|FAIL|n\/a): Table 1: the ELBO label-switches/);
    expect(after).toContain('(tables/table-1.csv)');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<table class="data">');
    expect(html).toMatch(/<td>ELBO<\/td><td>natural<\/td><td style="text-align:right">\d+<\/td>/);
    expect(html).toContain('<td>L_P (forward KL)</td><td>mean</td>');
    expect(html).toContain('href="tables/table-1.csv"');
  });

  it('writes Figure 2 (SVG, PNG, CSV) with one density curve per panel', () => {
    for (const ext of ['svg', 'png', 'csv']) {
      const f = join(dir, 'figures', `figure-2.${ext}`);
      expect(existsSync(f), f).toBe(true);
      expect(statSync(f).size).toBeGreaterThan(100);
    }
    const csv = readFileSync(join(dir, 'figures', 'figure-2.csv'), 'utf8')
      .trim()
      .split('\n');
    // 4 panels × 401 grid points of density, plus one row per replicate mode
    expect(csv.length - 1).toBe(4 * 401 + 4 * profileSettings('quick').seeds.length);
  });

  it('summary.json has e2.inOrder.<objective>.<param>, e2.replicates and e2.shiftMode lists', () => {
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const n = profileSettings('quick').seeds.length;
    expect(s.e2.replicates).toBe(n);
    for (const o of ['forwardKl', 'elbo']) {
      for (const p of ['mean', 'natural']) {
        const share = s.e2.inOrder[o][p];
        expect(share).toBeGreaterThanOrEqual(0);
        expect(share).toBeLessThanOrEqual(1);
        expect(s.e2.shiftMode[o][p]).toHaveLength(n);
        for (const m of s.e2.shiftMode[o][p]) expect(Number.isFinite(m)).toBe(true);
      }
    }
  });

  it('Table 1 from the stored runs agrees with the summary and renders as CSV and Markdown', () => {
    const store = new ResultsStore(dir);
    const runs = store.list('e2').map((id) => store.load('e2', id)) as E2Run[];
    const [t] = e2.tables(runs);
    expect(t!.name).toBe('table-1');
    expect(t!.rows).toHaveLength(4);
    expect(t!.cells.map((c) => c.slice(0, 2).join(' '))).toEqual([
      'ELBO natural',
      'ELBO mean',
      'L_P (forward KL) natural',
      'L_P (forward KL) mean',
    ]);
    expect(readFileSync(join(dir, 'tables', 'table-1.csv'), 'utf8')).toBe(toCsv(t!.rows));
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    for (const r of table1(runs.map((x) => x.summary))) {
      const key = r.objective === 'forward-kl' ? 'forwardKl' : 'elbo';
      expect(r.inOrderShare).toBe(s.e2.inOrder[key][r.parameterization]);
      expect(r.wilsonLow).toBeLessThanOrEqual(r.inOrderShare);
      expect(r.wilsonHigh).toBeGreaterThanOrEqual(r.inOrderShare);
    }
    // Each run's result: mode of q(Z | X) and the checks computed from it.
    for (const r of runs) {
      const res = r.summary as { modeZ: number[]; inOrder: boolean; l1: number; trueZ: number[] };
      expect(res.modeZ).toHaveLength(5);
      expect(res.inOrder).toBe(res.modeZ.every((z, k) => k === 0 || z > res.modeZ[k - 1]!));
      expect(res.l1).toBeCloseTo(
        res.modeZ.reduce((a, z, k) => a + Math.abs(z - res.trueZ[k]!), 0),
        6,
      );
    }
  });

  it('a second reproduce skips every finished run', async () => {
    const { code: c, log: log2 } = await run.rerun();
    expect(c, log2).toBe(0);
    expect(log2).toMatch(/8 finished \(skipped\)/);
  }, 120_000);

  itInChromium(
    'report.html at a laptop width: every figure at natural size, inside the page, tick labels ≥ 10 px',
    async () => {
      const shot = join(run.out, 'report-1280px.png');
      const m = await measureReport(join(run.dir, 'report.html'), shot);
      expectReadableReport(m, shot, ['live-figure-2']);
    },
    300_000,
  );
});

describe('E2 runs', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('plans ≥ 20 replicates per cell in the default profile, the paper config in the paper profile', () => {
    const d = planE2('default');
    for (const o of ['forward-kl', 'elbo']) {
      for (const p of ['mean', 'natural']) {
        expect(d.filter((c) => c.objective === o && c.parameterization === p).length).toBeGreaterThanOrEqual(
          20,
        );
      }
    }
    const paper = planE2('paper');
    expect(paper).toHaveLength(400);
    expect(paper[0]).toMatchObject({
      nPoints: 1000,
      steps: 50_000,
      lr: 1e-3,
      lrEvery: 500,
      K: 100,
      width: 64,
      heads: 4,
    });
    expect(e2.deviations(planCtx('paper'))).toHaveLength(1); // only the ELBO weighting note
  });

  it('rejects a bad config naming the field', () => {
    const bad = { ...planE2('quick')[0]!, heads: 3 };
    expect(() => parseWithSchema(e2ConfigSchema, bad, 'e2.config')).toThrow(/e2\.config\.heads/);
    expect(() =>
      parseWithSchema(e2ConfigSchema, { ...bad, heads: 4, objective: 'iwbo' }, 'e2.config'),
    ).toThrow(/objective/);
  });

  it('a numerically failing replicate is recorded by seed and reported in Table 1 beside the others', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gcvi-e2-fail-'));
    try {
      const store = new ResultsStore(out);
      // The observed data at 1e38 overflows the ELBO's log-joint: every step is non-finite.
      const config: E2Config = {
        ...planE2('quick').find((c) => c.objective === 'elbo')!,
        trueShift: 1e38,
        steps: 60,
      };
      const handle = store.open('e2', 'failing', config);
      const outcome = await e2.run(config, {
        id: 'failing',
        store: handle,
        results: store,
        staleAfterMs: 30_000,
        progress: () => {},
        log: () => {},
        timing: () => {},
      });
      expect(outcome).toMatchObject({ failed: true, seed: config.seed, objective: 'elbo' });
      expect((outcome as { error: string }).error).toMatch(/non-finite|finite/);
      const good = {
        seed: 7,
        objective: 'elbo' as const,
        parameterization: config.parameterization,
        modeZ: [1, 2, 3, 4, 5],
        inOrder: true,
        matched: true,
        l1: 1,
      };
      const rows = table1([outcome, good as never]);
      const row = rows.find((r) => r.objective === 'elbo' && r.parameterization === config.parameterization)!;
      expect(row.n).toBe(1);
      expect(row.failedSeeds).toEqual([config.seed]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('keeps tf.memory().numTensors flat in the number of steps', async () => {
    const base = planE2('quick').find((c) => c.objective === 'elbo' && c.parameterization === 'natural')!;
    const leak = async (steps: number) => {
      const before = tf.memory().numTensors;
      await trainE2({ ...base, steps });
      return tf.memory().numTensors - before;
    };
    await leak(1); // first-use allocations of the backend
    // What a run leaves behind must not depend on its length (no per-step leak).
    expect(await leak(12)).toBe(await leak(2));
  });
});
