import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The site is static and relative (`base: './'`), so `dist/` can be served from any folder.
 *
 * One alias: `node:module` → `src/shims/node-module.ts`. `@gcvi/runtime` calls
 * `createRequire(import.meta.url)` when its module loads (its Node backend chooser uses it to find
 * tfjs-node); the browser never calls the `require` that returns (the demo picks its backend in
 * `src/backend.ts`), but the call itself must not throw. Other node builtins imported by the
 * packages (fs, path, crypto, os, url, zlib) are only used inside functions the browser never calls
 * (checkpoint and file I/O); Vite replaces them with its empty browser stub.
 */
export default defineConfig({
  base: './',
  resolve: {
    alias: [
      {
        find: /^node:module$/,
        replacement: fileURLToPath(new URL('./src/shims/node-module.ts', import.meta.url)),
      },
    ],
  },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    sourcemap: true,
  },
});
