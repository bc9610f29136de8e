import { existsSync } from 'node:fs';

/**
 * Shared by the browser tests (apps/demo, apps/experiments): where the system Chromium is, whether
 * its absence fails the run, and the flags it needs here. Each test imports playwright-core itself.
 */

/**
 * Where the system Chromium is: $CHROMIUM_PATH, else Debian's /usr/bin/chromium, else the usual
 * names of other distributions. No browser is ever downloaded.
 */
export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  const candidates = [
    env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ].filter((p): p is string => typeof p === 'string' && p !== '');
  return candidates.find((p) => existsSync(p));
}

/** Whether a missing browser must fail the run (CI) rather than skip the browser tests. */
export function browserRequired(env: Record<string, string | undefined> = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * Flags for headless Chromium here: no sandbox (the tests run as root), and WebGL through
 * SwiftShader (ANGLE's software renderer), so a WebGL context exists without a GPU. Whether
 * tfjs's webgl backend then works in a worker is for the test to find out.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-dev-shm-usage',
];

/** One line that says why the browser tests are skipped, or why they failed in CI. */
export const NO_CHROMIUM_MESSAGE =
  'no Chromium found (set CHROMIUM_PATH, or apt-get install chromium); browser tests skipped outside CI, required in CI (CI=true)';
