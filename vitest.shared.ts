import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Map every workspace package's export subpaths to their TypeScript sources (the `@gcvi/source`
 * condition of each exports map), so tests need no build and a package's README example can
 * import the package by its own name.
 */
function workspaceAliases(): { find: string; replacement: string }[] {
  const out: { find: string; replacement: string }[] = [];
  for (const group of ['packages', 'apps']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const pkgFile = join(dir, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
        name: string;
        exports?: Record<string, Record<string, string>>;
      };
      for (const [sub, conds] of Object.entries(pkg.exports ?? {})) {
        const src = conds['@gcvi/source'];
        if (!src) continue;
        out.push({ find: pkg.name + sub.slice(1), replacement: resolve(dir, name, src) });
      }
    }
  }
  // Longest first, so '@gcvi/objectives/test' wins over '@gcvi/objectives'.
  return out.sort((a, b) => b.find.length - a.find.length);
}

/**
 * Shared vitest settings for every package: workspace packages resolve to their sources, and each
 * test file runs in its own forked process (tfjs keeps global engine state; native backends dislike
 * worker threads).
 */
export function gcviVitestConfig(overrides: { testTimeout?: number; include?: string[] } = {}) {
  const alias = workspaceAliases().map((a) => ({
    find: new RegExp(`^${a.find.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&')}$`),
    replacement: a.replacement,
  }));
  return defineConfig({
    resolve: { alias },
    test: {
      pool: 'forks',
      include: overrides.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 120_000,
      hookTimeout: 120_000,
    },
  });
}
