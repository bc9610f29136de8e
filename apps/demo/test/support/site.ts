import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const appDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Build the demo exactly as `pnpm --filter demo build` does (vite.config.ts), into a fresh
 * temporary folder (so a test never races a build writing dist/). Returns the folder and a
 * function that removes it.
 */
export async function buildSite(): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'gcvi-demo-site-'));
  await build({
    root: appDir,
    configFile: join(appDir, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: dir, emptyOutDir: true, sourcemap: false },
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
