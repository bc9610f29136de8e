/**
 * The demo in a real browser: Debian's Chromium, headless, driven by playwright-core (no browser
 * download). Builds the site, serves it on a free localhost port, trains E1 at width 256 for 300
 * steps on wasm, and checks what a reader would: the NLL fell to the exact posterior's, no console
 * error, a reload replays the run, dragging x moves the posterior, start/pause/reset work. Also
 * tries webgl (SwiftShader here) for a short run. Writes a screenshot and the speeds seen to
 * test-results/ (DEMO_SCREENSHOT=path overrides the screenshot's path); the README's speed table
 * comes from scripts/browser-speed.ts.
 *
 * Without Chromium the suite is skipped with a message, except in CI (CI=true), where it fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserRequired,
  CHROMIUM_ARGS,
  findChromium,
  NO_CHROMIUM_MESSAGE,
} from '../../../test-support/browser.js';
import { type StaticServer, serveStatic } from './support/server.js';
import { buildSite } from './support/site.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(appDir, 'test-results');
const executablePath = findChromium();
const LOG_2PI = Math.log(2 * Math.PI);

if (!executablePath) {
  if (browserRequired()) {
    it('finds Chromium (required in CI)', () => {
      throw new Error(NO_CHROMIUM_MESSAGE);
    });
  } else {
    console.warn(`demo browser tests: ${NO_CHROMIUM_MESSAGE}`);
    it.skip(`demo in Chromium (${NO_CHROMIUM_MESSAGE})`, () => {});
  }
} else {
  describe('the demo in Chromium', () => {
    let site: { dir: string; remove: () => void } | undefined;
    let server: StaticServer | undefined;
    let browser: Browser | undefined;
    const speeds: Record<string, unknown> = {};

    beforeAll(async () => {
      site = await buildSite();
      server = await serveStatic(site.dir);
      browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      site?.remove();
      if (Object.keys(speeds).length) {
        mkdirSync(resultsDir, { recursive: true });
        const out = { chromium: browser?.version(), measuredAt: new Date().toISOString(), ...speeds };
        writeFileSync(join(resultsDir, 'browser-speed.json'), `${JSON.stringify(out, null, 2)}\n`);
        console.log(`demo browser speeds: ${JSON.stringify(out)}`);
      }
    });

    /** A page that records every console error and uncaught exception (page and worker). */
    async function openPage(query: string): Promise<{ page: Page; errors: string[] }> {
      const page = await browser!.newPage({ viewport: { width: 1100, height: 1050 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      page.on('response', (r) => {
        if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      await page.goto(`${server!.url}${query}`);
      return { page, errors };
    }

    const num = async (page: Page, id: string) => Number(await page.getAttribute(`#${id}`, 'data-value'));

    /** Wait until the run has reached `steps` and stopped (or an error is shown). */
    async function waitDone(page: Page, steps: number, timeout = 150_000) {
      await page.waitForFunction(
        (n) => {
          const err = document.getElementById('error');
          if (err && !err.hidden) return true;
          const st = document.getElementById('status');
          return (
            document.getElementById('step')?.dataset.value === String(n) && st?.dataset.running === 'false'
          );
        },
        steps,
        { timeout, polling: 100 },
      );
      const err = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : e.textContent));
      expect(err).toBe('');
    }

    async function readRun(page: Page) {
      return {
        step: await num(page, 'step'),
        full: await num(page, 'nll-full'),
        linear: await num(page, 'nll-linear'),
        exact: await num(page, 'nll-exact'),
        stepsPerSecond: Number(await page.getAttribute('#status', 'data-steps-per-second')),
        backend: await page.getAttribute('#status', 'data-backend'),
        status: await page.textContent('#status'),
      };
    }

    it('trains width 256 for 300 steps on wasm: the NLL falls to the exact one, no console error, a reload replays it', async () => {
      const query = '?width=256&steps=300&backend=wasm&autostart=1';
      const { page, errors } = await openPage(query);
      try {
        await waitDone(page, 300);
        const run = await readRun(page);
        expect(run.backend).toBe('wasm');
        expect(run.step).toBe(300);
        // From log 2π (q uniform at init) to within 0.02 of the exact posterior's NLL (≈ 0.73).
        expect(run.exact).toBeGreaterThan(0.5);
        expect(run.exact).toBeLessThan(1);
        for (const v of [run.full, run.linear]) {
          expect(v).toBeLessThan(LOG_2PI - 0.9);
          expect(Math.abs(v - run.exact)).toBeLessThan(0.02);
        }
        speeds.wasm = {
          width: 256,
          steps: 300,
          stepsPerSecond: Number(run.stepsPerSecond.toFixed(1)),
          status: run.status,
        };

        // Drag x from its start (60°) to 200° along the circle: the readout and the modes follow.
        const box = (await page.locator('#circle').boundingBox())!;
        const cx = box.x + box.width / 2;
        const cy = box.y + box.height / 2;
        const r = 0.3 * Math.min(box.width, box.height);
        const at = (deg: number): [number, number] => [
          cx + r * Math.cos((deg * Math.PI) / 180),
          cy - r * Math.sin((deg * Math.PI) / 180),
        ];
        await page.mouse.move(...at(60));
        await page.mouse.down();
        for (let d = 60; d <= 200; d += 20) await page.mouse.move(...at(d), { steps: 2 });
        await page.mouse.up();
        await page.waitForFunction(
          () => Math.abs(Number(document.getElementById('mode-exact')?.dataset.value) - 200) < 2,
          null,
          { timeout: 20_000 },
        );
        expect(Math.abs((await num(page, 'phi')) - 200)).toBeLessThan(1);
        // After 300 steps both q's peak within ~8° of the exact mode (which is at x's angle).
        for (const id of ['mode-full', 'mode-linear'])
          expect(Math.abs((await num(page, id)) - 200)).toBeLessThan(8);

        mkdirSync(resultsDir, { recursive: true });
        const shot = process.env.DEMO_SCREENSHOT
          ? resolve(appDir, process.env.DEMO_SCREENSHOT)
          : join(resultsDir, 'demo.png');
        mkdirSync(dirname(shot), { recursive: true });
        await page.screenshot({ path: shot, fullPage: true });

        // A reload replays the run bit for bit (same seed, same backend).
        await page.reload();
        await waitDone(page, 300);
        const again = await readRun(page);
        expect(again.full).toBe(run.full);
        expect(again.linear).toBe(run.linear);
        expect(again.exact).toBe(run.exact);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('starts, pauses and resets from the buttons', async () => {
      const { page, errors } = await openPage('?width=64&steps=20000&backend=wasm');
      try {
        await page.waitForSelector('#start:not([disabled])');
        expect(await num(page, 'step')).toBe(0);
        await page.click('#start');
        await page.waitForFunction(() => Number(document.getElementById('step')?.dataset.value) >= 50);
        await page.click('#pause');
        await page.waitForFunction(() => document.getElementById('status')?.dataset.running === 'false');
        const paused = await num(page, 'step');
        await page.waitForTimeout(700);
        expect(await num(page, 'step')).toBe(paused);
        await page.click('#start');
        await page.waitForFunction((s) => Number(document.getElementById('step')?.dataset.value) > s, paused);
        await page.click('#reset');
        await page.waitForFunction(
          () =>
            document.getElementById('step')?.dataset.value === '0' &&
            !(document.getElementById('start') as HTMLButtonElement).disabled,
        );
        // Back at the initial NLL, log 2π up to the 1e-4 offset.
        expect(Math.abs((await num(page, 'nll-full')) - LOG_2PI)).toBeLessThan(1e-3);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('runs on webgl where Chromium gives the worker a WebGL context (SwiftShader here)', async () => {
      // Software WebGL is slow (~1–3 steps/s here): a short run, enough to see the NLL fall.
      // scripts/browser-speed.ts measures its speed over a longer run.
      const steps = 12;
      const { page, errors } = await openPage(`?width=256&steps=${steps}&backend=webgl&autostart=1`);
      try {
        await page.waitForFunction(
          () => {
            const err = document.getElementById('error');
            return (err && !err.hidden) || document.getElementById('status')?.dataset.backend;
          },
          null,
          { timeout: 60_000 },
        );
        const err = await page.$eval('#error', (e) =>
          (e as HTMLElement).hidden ? '' : (e.textContent ?? ''),
        );
        if (err.includes('no tfjs backend could be started')) {
          console.warn(`demo: webgl is not available in this Chromium: ${err}`);
          speeds.webgl = { available: false, reason: err };
          return;
        }
        await waitDone(page, steps);
        const run = await readRun(page);
        expect(run.backend).toBe('webgl');
        for (const v of [run.full, run.linear]) expect(v).toBeLessThan(LOG_2PI - 0.1);
        speeds.webgl = {
          available: true,
          width: 256,
          steps,
          stepsPerSecond: Number(run.stepsPerSecond.toFixed(2)),
          status: run.status,
        };
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
