import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quickReproduce } from '../../../test/fixtures/quick-run.js';
import { expectReadableReport, itInChromium, measureReport } from '../../../test/fixtures/report-layout.js';
import { e4, e4Plan } from './index.js';

describe('e4 plan', () => {
  it('plans L_P and ELBO with the DESIGN settings that the default profile keeps', () => {
    const plan = e4Plan('default');
    expect(plan.map((c) => c.method)).toEqual(['forwardKl', 'elbo']);
    for (const c of plan) {
      expect(e4.configSchema.safeParse(c).success).toBe(true);
      expect([c.nImages, c.qSd, c.meanScale, c.lr, c.evalEvery]).toEqual([100, 0.5, 0.5, 1e-3, 20]);
    }
    const bad = e4.configSchema.safeParse({ ...plan[0], qSd: -1 });
    expect(JSON.stringify(bad.error?.issues[0]?.path)).toContain('qSd');
    // The default's final metrics are of the mean of the last third of iterates; the paper's are not.
    expect(plan.map((c) => [c.steps, c.averageFrom])).toEqual([
      [2000, 1333],
      [1000, 666],
    ]);
    expect(e4Plan('paper').every((c) => c.averageFrom === undefined)).toBe(true);
  });
});

describe('reproduce --profile quick --only e4', () => {
  const run = quickReproduce('e4', 600_000);

  it('finishes both runs and draws Figure 7', () => {
    expect(run.code, run.log).toBe(0);
    for (const ext of ['svg', 'png', 'csv']) {
      const f = join(run.dir, 'figures', `figure-7.${ext}`);
      expect(existsSync(f), f).toBe(true);
      expect(statSync(f).size, f).toBeGreaterThan(100);
    }
  });

  it('summary.json has e4.final.<forwardKl|elbo>.<forwardKl|reverseKl|nll|angleDeg> as finite numbers', () => {
    const s = JSON.parse(readFileSync(join(run.dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    const e = (s.e4 ?? (s.experiments as Record<string, unknown> | undefined)?.e4) as {
      final: Record<string, Record<string, number>>;
    };
    for (const m of ['forwardKl', 'elbo']) {
      for (const k of ['forwardKl', 'reverseKl', 'nll', 'angleDeg']) {
        expect(Number.isFinite(e.final[m]?.[k]), `${m}.${k}`).toBe(true);
      }
      expect(e.final[m]!.reverseKl).toBeGreaterThan(-1e-6);
      expect(e.final[m]!.forwardKl).toBeGreaterThan(-1e-6);
    }
  });

  it("each run's summary gives the tail mean's metrics and the last iterate's, which is the last metric row", () => {
    const runsDir = join(run.dir, 'runs', 'e4');
    const ids = readdirSync(runsDir);
    expect(ids.length).toBe(2);
    for (const id of ids) {
      const r = JSON.parse(readFileSync(join(runsDir, id, 'summary.json'), 'utf8')).result as {
        final: Record<string, number>;
        lastIterate?: Record<string, number>;
      };
      const rows = readFileSync(join(runsDir, id, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n');
      const lastRow = JSON.parse(rows.at(-1)!) as Record<string, number>;
      expect(r.lastIterate).toBeDefined();
      for (const k of ['forwardKl', 'nll', 'angleDeg']) expect(r.lastIterate![k]).toBe(lastRow[k]);
      expect(r.final.angleDeg).not.toBe(r.lastIterate!.angleDeg);
    }
  });

  itInChromium(
    'report.html at a laptop width: every figure at natural size, inside the page, tick labels ≥ 10 px',
    async () => {
      const shot = join(run.out, 'report-1280px.png');
      const m = await measureReport(join(run.dir, 'report.html'), shot);
      expectReadableReport(m, shot, ['live-figure-7']);
    },
    300_000,
  );
});
