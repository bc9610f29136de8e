import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalTestSet } from '@gcvi/datasets';
import { type ExperimentDefinition, InlineExecutor, reproduce } from '@gcvi/experiments';
import { createRng } from '@gcvi/runtime';
import { z } from 'zod';

// A small experiment: the exact-posterior NLL of E1 test sets of growing size approaches the
// entropy of the noise, ½ log(2πeσ²) ≈ 0.7258 for σ = 0.5.
const config = z.object({ n: z.number().int().min(1), seed: z.number().int() }).strict();
type Config = z.infer<typeof config>;
const ENTROPY = 0.5 * Math.log(2 * Math.PI * Math.E * 0.25);

const exactNll: ExperimentDefinition<Config, { nll: number }> = {
  id: 'exact-nll',
  title: 'Exact-posterior NLL of the canonical problem',
  paperRef: 'Section 5.1 (the red line of Figure 1)',
  paperClaims: ['The exact-posterior NLL is the entropy of the angle noise.'],
  configSchema: config,
  plan: (ctx) => [100, 400, 1600].map((n) => ({ n: ctx.profile === 'quick' ? n / 4 : n, seed: 7 })),
  label: (c) => `n ${c.n}`,
  async run(c, ctx) {
    const test = canonicalTestSet(c.n, createRng(c.seed).split('test'));
    test.theta.dispose();
    test.x.dispose();
    ctx.store.appendMetrics([{ kind: 'nll', step: c.n, nll: test.exactNll }]);
    ctx.progress({ step: 1, total: 1 });
    return { nll: test.exactNll };
  },
  summarize: (runs) => ({ nll: Object.fromEntries(runs.map((r) => [String(r.config.n), r.summary.nll])) }),
  figures: (runs) => {
    const rows = runs.map((r) => ({ n: r.config.n, nll: r.summary.nll, entropy: ENTROPY }));
    return [
      {
        name: 'exact-nll',
        title: 'Exact NLL vs test-set size',
        paperCaption: 'The red line of Figure 1.',
        rows,
        spec: {
          data: { values: rows },
          layer: [
            {
              mark: 'line',
              encoding: {
                x: { field: 'n', type: 'quantitative', scale: { type: 'log' } },
                y: { field: 'nll', type: 'quantitative', scale: { zero: false } },
              },
            },
            {
              mark: { type: 'rule', color: 'red' },
              encoding: { y: { field: 'entropy', aggregate: 'mean' } },
            },
          ],
        },
      },
    ];
  },
  claims: (runs) => {
    const big = runs.reduce((a, r) => (r.config.n > a.config.n ? r : a));
    const gap = big.summary.nll - ENTROPY;
    return [
      {
        id: 'exact-nll-is-entropy',
        paper: 'The exact-posterior NLL is the noise entropy ½ log(2πeσ²).',
        test: '|NLL − entropy| < 0.05 on the largest test set',
        measured: `n ${big.config.n}: ${big.summary.nll.toFixed(4)} vs ${ENTROPY.toFixed(4)}`,
        values: { gap },
        status: Math.abs(gap) < 0.05 ? 'pass' : 'fail',
        figures: ['exact-nll'],
      },
    ];
  },
  deviations: () => [],
};

export async function main(): Promise<unknown> {
  const out = mkdtempSync(join(tmpdir(), 'gcvi-readme-'));
  const result = await reproduce({
    profile: 'default',
    out,
    experiments: [exactNll],
    executor: new InlineExecutor([exactNll]), // or a LocalPoolExecutor for child processes
    progress: 'none',
  });
  const summary = JSON.parse(readFileSync(result.summaryFile, 'utf8'));
  console.log(summary['exact-nll'].nll, summary.claims['exact-nll'][0].status);
  return { summary, dir: result.dir };
}
