/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The live report in a real browser: a report.html made with src/pipeline/live.ts from the real E1
 * figure specs (e1Figures on a small synthetic set of runs), their SVGs rendered as the report
 * does, opened from disk (file://, no server) in Debian's Chromium via playwright-core. Every
 * figure must turn into a live Vega-Lite view with no console error; and with the browser builds
 * missing, every figure must keep its static SVG.
 *
 * Without Chromium the suite is skipped with a message, except in CI (CI=true), where it fails.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderVegaLite } from '@gcvi/plots';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserRequired,
  CHROMIUM_ARGS,
  findChromium,
  NO_CHROMIUM_MESSAGE,
} from '../../../test-support/browser.js';
import { e1Figures } from '../src/experiments/e1/figures.js';
import type { E1Run } from '../src/experiments/e1/summary.js';
import { liveAssets, liveBootHtml, liveFigureHtml, liveHeadHtml } from '../src/pipeline/live.js';

const executablePath = findChromium();

/** Runs at widths 64 and 256 with test-NLL curves and NTK rows, shaped as the store loads them. */
function syntheticRuns(exactNll: number): E1Run[] {
  return [64, 256].map((width) => {
    const metrics: Record<string, unknown>[] = [];
    for (let step = 0; step <= 600; step += 100) {
      for (const model of ['full', 'linear']) {
        const gap = (model === 'full' ? 1 : 1.5) * Math.exp(-step / (width === 64 ? 300 : 150));
        metrics.push({ kind: 'testNll', model, step, nll: exactNll + 1.1 * gap + 0.004, exactNll });
      }
      metrics.push({
        kind: 'ntk',
        model: 'full',
        step,
        jacobianDistance: (step / 600) * (8 / Math.sqrt(width)),
        ntkDistance: (step / 600) * (20 / Math.sqrt(width)),
        eig1: (step / 600) * (15 / Math.sqrt(width)),
        eig2: (step / 600) * (3 / Math.sqrt(width)),
      });
    }
    const last = (model: string) =>
      Number(
        (metrics.filter((m) => m.kind === 'testNll' && m.model === model).at(-1) as { nll: number }).nll,
      );
    return {
      config: { width, steps: 600 },
      metrics,
      summary: { exactNll, finalTestNll: { full: last('full'), linear: last('linear') } },
    } as unknown as E1Run;
  });
}

/** report.html with every figure live (SVG fallback under figures/); returns its path. */
async function writeLiveReport(dir: string, withAssets: boolean): Promise<{ html: string; names: string[] }> {
  const exactNll = 0.7345;
  const figures = e1Figures(syntheticRuns(exactNll), exactNll);
  mkdirSync(join(dir, 'figures'), { recursive: true });
  const body: string[] = [];
  for (const f of figures) {
    const { svg } = await renderVegaLite(f.spec);
    writeFileSync(join(dir, 'figures', `${f.name}.svg`), svg);
    body.push(
      `<h2>${f.title}</h2>`,
      liveFigureHtml({ name: f.name, spec: f.spec, svg: `figures/${f.name}.svg`, alt: f.title }),
    );
  }
  if (withAssets) liveAssets(dir);
  const html = join(dir, 'report.html');
  writeFileSync(
    html,
    [
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>live report test</title>',
      '<link rel="icon" href="data:,">',
      liveHeadHtml(),
      '</head><body>',
      ...body,
      liveBootHtml(),
      '</body></html>',
    ].join('\n'),
  );
  return { html, names: figures.map((f) => f.name) };
}

if (!executablePath) {
  if (browserRequired()) {
    it('finds Chromium (required in CI)', () => {
      throw new Error(NO_CHROMIUM_MESSAGE);
    });
  } else {
    console.warn(`live report browser tests: ${NO_CHROMIUM_MESSAGE}`);
    it.skip(`live report in Chromium (${NO_CHROMIUM_MESSAGE})`, () => {});
  }
} else {
  describe('the live report in Chromium, opened from disk', () => {
    let browser: Browser | undefined;
    const dirs: string[] = [];
    const tempDir = () => {
      const d = mkdtempSync(join(tmpdir(), 'gcvi-live-report-'));
      dirs.push(d);
      return d;
    };

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    });
    afterAll(async () => {
      await browser?.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('draws every figure as a live Vega-Lite view, with no console error', async () => {
      const { html, names } = await writeLiveReport(tempDir(), true);
      expect(names.length).toBeGreaterThanOrEqual(4);
      const page = await browser!.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      try {
        await page.goto(pathToFileURL(html).href);
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll('figure.gcvi-live')].every(
              (f) => f.getAttribute('data-live') !== 'pending',
            ),
          null,
          { timeout: 30_000 },
        );
        for (const sel of names.map((n) => `#live-${n}`)) {
          const state = await page.$eval(sel, (f) => ({
            live: f.getAttribute('data-live'),
            error: f.getAttribute('data-error'),
            // Marks drawn by vega in the live view, and whether the fallback image is hidden.
            marks: f.querySelectorAll('.gcvi-live-view svg .role-mark > *').length,
            fallbackShown: getComputedStyle(f.querySelector('img.gcvi-live-fallback')!).display !== 'none',
            viewWidth:
              (f.querySelector('.gcvi-live-view svg') as SVGSVGElement | null)?.getBoundingClientRect()
                .width ?? 0,
          }));
          expect(state, sel).toMatchObject({ live: 'ok', error: null, fallbackShown: false });
          expect(state.marks, sel).toBeGreaterThan(0);
          expect(state.viewWidth, sel).toBeGreaterThan(100);
        }
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('keeps the static SVGs when the browser builds are missing', async () => {
      const { html, names } = await writeLiveReport(tempDir(), false);
      const page = await browser!.newPage();
      try {
        await page.goto(pathToFileURL(html).href);
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll('figure.gcvi-live')].every(
              (f) => f.getAttribute('data-live') !== 'pending',
            ),
          null,
          { timeout: 30_000 },
        );
        for (const n of names) {
          const state = await page.$eval(`#live-${n}`, (f) => {
            const img = f.querySelector('img.gcvi-live-fallback') as HTMLImageElement;
            return {
              live: f.getAttribute('data-live'),
              error: f.getAttribute('data-error'),
              shown: getComputedStyle(img).display !== 'none',
              loaded: img.complete && img.naturalWidth > 0,
            };
          });
          expect(state).toEqual({
            live: 'failed',
            error: 'vega-embed did not load',
            shown: true,
            loaded: true,
          });
        }
      } finally {
        await page.close();
      }
    });
  });
}
