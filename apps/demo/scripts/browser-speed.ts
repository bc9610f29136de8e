/**
 * Steps per second of the demo in headless Chromium, per backend, for the README: builds the site,
 * serves it on a free localhost port, runs `?width=W&steps=N&backend=B&autostart=1` and reads the
 * page's own figure (lockstep steps per second of training, the first 10 steps left out).
 *
 *     pnpm --filter demo speed:browser [width] [wasmSteps] [webglSteps]
 */
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium, NO_CHROMIUM_MESSAGE } from '../../../test-support/browser.js';
import { serveStatic } from '../test/support/server.js';
import { buildSite } from '../test/support/site.js';

const width = Number(process.argv[2] ?? 256);
const runs = [
  { backend: 'wasm', steps: Number(process.argv[3] ?? 1000) },
  { backend: 'webgl', steps: Number(process.argv[4] ?? 60) },
];
const executablePath = findChromium();
if (!executablePath) throw new Error(NO_CHROMIUM_MESSAGE);
const site = await buildSite();
const server = await serveStatic(site.dir);
const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
const results: Record<string, unknown>[] = [];
try {
  for (const { backend, steps } of runs) {
    const page = await browser.newPage();
    await page.goto(`${server.url}?width=${width}&steps=${steps}&backend=${backend}&autostart=1`);
    await page.waitForFunction(
      (n) => {
        const err = document.getElementById('error');
        if (err && !err.hidden) return true;
        return (
          document.getElementById('step')?.dataset.value === String(n) &&
          document.getElementById('status')?.dataset.running === 'false'
        );
      },
      steps,
      { timeout: 900_000, polling: 200 },
    );
    const error = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : e.textContent));
    results.push({
      backend,
      width,
      steps,
      stepsPerSecond: Number(Number(await page.getAttribute('#status', 'data-steps-per-second')).toFixed(2)),
      status: await page.textContent('#status'),
      ...(error ? { error } : {}),
    });
    await page.close();
  }
  console.log(JSON.stringify({ chromium: browser.version(), results }, null, 2));
} finally {
  await browser.close();
  await server.close();
  site.remove();
}
