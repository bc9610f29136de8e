/**
 * Where results go by default, and the up-front check of a results root (`--out`) so that a bad
 * folder is one message before any run starts, not one stack trace per run (or a hang).
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { ConfigError } from '@gcvi/runtime';
import { appRoot } from './versions.js';

/** True when this package runs from an installed copy (inside some `node_modules`), not from the gcvi workspace. */
export function installedFromRegistry(root = appRoot()): boolean {
  return root.split(sep).includes('node_modules');
}

/**
 * Default results root: `apps/experiments/results` when running inside the gcvi workspace; when the
 * package is installed (a tarball or the registry: it lives in `node_modules`), `./results` in the
 * current working directory — never inside `node_modules`.
 */
export function defaultOutDir(cwd = process.cwd()): string {
  const root = appRoot();
  return installedFromRegistry(root) ? resolve(cwd, 'results') : join(root, 'results');
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^\w+: /, '')}` : String(err.message ?? e);
}

/**
 * `mkdir -p` one level at a time. (Node's `mkdirSync(…, { recursive: true })` loops forever on
 * `/proc/x`: the parent exists, the child cannot be made, ENOENT each time.)
 */
function mkdirBounded(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) mkdirSync(m);
}

/**
 * Check that `dir` can hold results: it is a folder or can be created, and a file can be written
 * in it (a bounded probe: one mkdir, one small write, one delete — no locks, no retries). A file
 * path, an unwritable folder or a pseudo file system (`/proc/x`) is a `ConfigError` naming `field`
 * and the path. Returns the absolute path.
 */
export function checkOutDir(value: string, field = '--out'): string {
  if (value.trim() === '') throw new ConfigError(field, 'needs a folder path');
  const dir = resolve(value);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ConfigError(field, `'${value}' is a file, not a folder for results`);
  }
  try {
    mkdirBounded(dir);
  } catch (e) {
    throw new ConfigError(field, `cannot create the results folder '${value}' (${reason(e)})`);
  }
  const probe = join(dir, `.gcvi-write-probe-${process.pid}`);
  try {
    writeFileSync(probe, 'probe\n', { flag: 'wx' });
  } catch (e) {
    throw new ConfigError(field, `cannot write in the results folder '${value}' (${reason(e)})`);
  } finally {
    rmSync(probe, { force: true });
  }
  return dir;
}

/**
 * For commands that only read a results root (`list`, `status`): it may be missing (nothing run
 * yet), but a path that exists must be a folder.
 */
export function checkReadableOutDir(value: string, field = '--out'): string {
  if (value.trim() === '') throw new ConfigError(field, 'needs a folder path');
  const dir = resolve(value);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ConfigError(field, `'${value}' is a file, not a results folder`);
  }
  return dir;
}
