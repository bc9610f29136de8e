import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's root folder (apps/experiments), from src/ or dist/. */
export function appRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the apps/experiments package.json');
}

function versionAt(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Versions of the packages a result depends on (workspace packages, tfjs, plotting, node). */
export function packageVersions(): Record<string, string> {
  const root = appRoot();
  const out: Record<string, string> = { node: process.version };
  const own = versionAt(join(root, 'package.json'));
  if (own) out['@gcvi/experiments'] = own;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(pkg.dependencies ?? {}).sort()) {
    const v = versionAt(join(root, 'node_modules', name, 'package.json'));
    if (v) out[name] = v;
  }
  return out;
}
