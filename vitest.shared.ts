import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings for every package: resolve workspace packages to their TypeScript
 * sources (the `@gcvi/source` export condition) so tests need no build, and run each test file in
 * its own forked process (tfjs keeps global engine state; native backends dislike worker threads).
 */
export function gcviVitestConfig(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { conditions: ['@gcvi/source', 'module', 'node', 'default'] },
    ssr: { resolve: { conditions: ['@gcvi/source', 'module', 'node', 'default'] } },
    test: {
      pool: 'forks',
      include: overrides.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 60_000,
      server: { deps: { inline: [/@gcvi\//] } },
    },
  });
}
