/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  browserRequired,
  CHROMIUM_ARGS,
  findChromium,
  NO_CHROMIUM_MESSAGE,
} from '../../../test-support/browser.js';
import { quickReproduce } from './fixtures/quick-run.js';
import { expectReadableReport, itInChromium, measureReport } from './fixtures/report-layout.js';

/**
 * The test-command check of issue 4: `reproduce --profile quick --only e1` into a temporary folder
 * produces every E1 figure (SVG, PNG, CSV), every required summary.json key with finite numbers,
 * and the report. Runs in this process (`--workers 0`): the worker pool needs the compiled dist.
 */
describe('reproduce --profile quick --only e1', () => {
  const run = quickReproduce('e1', 240_000);
  const dir = run.dir;

  it('exits 0', () => {
    expect(run.code, run.log).toBe(0);
  });

  it('writes every E1 figure with its data beside it', () => {
    for (const name of [
      'figure-1',
      'figure-a1-jacobian-distance',
      'figure-a2-ntk-distance',
      'figure-a3-ntk-eigenvalues',
    ]) {
      for (const ext of ['svg', 'png', 'csv', 'vl.json']) {
        const f = join(dir, 'figures', `${name}.${ext}`);
        expect(existsSync(f), f).toBe(true);
        expect(statSync(f).size, f).toBeGreaterThan(100);
      }
      const svg = readFileSync(join(dir, 'figures', `${name}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      const png = readFileSync(join(dir, 'figures', `${name}.png`));
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      const csv = readFileSync(join(dir, 'figures', `${name}.csv`), 'utf8')
        .trim()
        .split('\n');
      expect(csv.length).toBeGreaterThan(3);
    }
  });

  it('summary.json holds the required keys with finite numbers', () => {
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(s.profile).toBe('quick');
    expect(typeof s.backend.name).toBe('string');
    expect(typeof s.versions['@gcvi/runtime']).toBe('string');
    // times of this invocation live in invocation.json; summary.json is a function of the runs only
    expect(s.wallSeconds).toBeUndefined();
    const inv = JSON.parse(readFileSync(join(dir, 'invocation.json'), 'utf8'));
    expect(Number.isFinite(inv.wallSeconds)).toBe(true);
    expect(Number.isFinite(s.e1.exactNll)).toBe(true);
    for (const w of ['64', '256', '1024']) {
      for (const m of ['full', 'linear'])
        expect(Number.isFinite(s.e1.finalTestNll[m][w]), `${m} ${w}`).toBe(true);
      expect(Number.isFinite(s.e1.jacobianDistance[w])).toBe(true);
      expect(s.e1.jacobianDistance[w]).toBeGreaterThan(0);
      expect(Number.isFinite(s.e1.ntkMinEigenvalue[w])).toBe(true);
    }
    // training moved the test NLL down from the uniform q's log(2π) ≈ 1.838
    expect(s.e1.finalTestNll.full['1024']).toBeLessThan(Math.log(2 * Math.PI));
  });

  it('writes report.md and report.html with figures, claims and deviations', () => {
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(md).toContain('figures/figure-1.png');
    expect(md).toContain('Deviations from the paper');
    expect(md).toMatch(/\*\*(PASS|FAIL)\*\*/);
    expect(html).toContain('figures/figure-1.svg');
    expect(html).toContain('figure-a3-ntk-eigenvalues');
  });

  const chromiumPath = findChromium();
  const inBrowser = chromiumPath || browserRequired() ? it : it.skip;
  inBrowser(
    `report.html opens from disk in Chromium with every figure live${chromiumPath ? '' : ` (${NO_CHROMIUM_MESSAGE})`}`,
    async () => {
      if (!chromiumPath) throw new Error(NO_CHROMIUM_MESSAGE);
      const html = join(dir, 'report.html');
      const figures = [
        ...readFileSync(html, 'utf8').matchAll(/<figure class="gcvi-live" id="(live-[^"]+)"/g),
      ].map((m) => m[1] as string);
      expect(figures.length).toBeGreaterThanOrEqual(4);
      const browser = await chromium.launch({
        executablePath: chromiumPath,
        args: CHROMIUM_ARGS,
        headless: true,
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
        await page.goto(pathToFileURL(html).href);
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll('figure.gcvi-live')].every(
              (f) => f.getAttribute('data-live') !== 'pending',
            ),
          null,
          { timeout: 60_000 },
        );
        for (const id of figures) {
          const state = await page.$eval(`#${id}`, (f) => ({
            live: f.getAttribute('data-live'),
            error: f.getAttribute('data-error'),
            marks: f.querySelectorAll('.gcvi-live-view svg .role-mark > *').length,
          }));
          expect(state, id).toMatchObject({ live: 'ok', error: null });
          expect(state.marks, id).toBeGreaterThan(0);
        }
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );

  // issue 12: Figure 1 was squeezed to ~620 px with ~5 px tick labels
  itInChromium(
    'report.html at a laptop width (1280 px): every figure at natural size, inside the page, wide ones ≥ 900 px, tick labels ≥ 10 px',
    async () => {
      const shot = join(run.out, 'report-1280px.png');
      const m = await measureReport(join(dir, 'report.html'), shot);
      expectReadableReport(m, shot, [
        'live-figure-1',
        'live-figure-a1-jacobian-distance',
        'live-figure-a2-ntk-distance',
        'live-figure-a3-ntk-eigenvalues',
      ]);
      expect(m.figures.find((f) => f.id === 'live-figure-1')?.multiPanel).toBe(true);
    },
    300_000,
  );

  it('a second invocation skips every finished run and writes the same summary.json', async () => {
    const before = readFileSync(join(dir, 'summary.json'), 'utf8');
    const { code: c, log } = await run.rerun();
    expect(c, log).toBe(0);
    expect(log).toMatch(/3 run\(s\): 3 finished \(skipped\)/);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(before);
  });
});
