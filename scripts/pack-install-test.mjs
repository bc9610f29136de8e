#!/usr/bin/env node
// Installing one package on its own must work: pack @gcvi/distributions (and the @gcvi packages it
// depends on, which are not on the registry yet) with `pnpm pack`, install the tarballs into a
// fresh project outside the workspace with plain npm, and run the package README's example there.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.argv[2] ?? 'distributions';
const work = mkdtempSync(join(tmpdir(), 'gcvi-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

function workspaceDeps(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
  for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
    if (String(range).startsWith('workspace:')) workspaceDeps(dep.replace('@gcvi/', ''), seen);
  }
  return seen;
}

try {
  const names = [...workspaceDeps(target)];
  const tarballs = [];
  mkdirSync(join(work, 'tarballs'));
  for (const name of names) {
    run('pnpm', ['pack', '--pack-destination', join(work, 'tarballs')], join(root, 'packages', name));
  }
  for (const f of readdirSync(join(work, 'tarballs'))) tarballs.push(join(work, 'tarballs', f));
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'pack-test', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], app);
  const readme = readFileSync(join(root, 'packages', target, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error(`packages/${target}/README.md has no \`\`\`ts example block`);
  // The README example exports `main`; call it.
  writeFileSync(join(app, 'example.ts'), `${block[1]}\nconsole.log(JSON.stringify(await main()));\n`);
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
  const out = run(process.execPath, ['--import', tsx, 'example.ts'], app);
  console.log(
    `pack-install: @gcvi/${target} installed from ${tarballs.length} tarballs; README example printed:`,
  );
  console.log(out.trim().split('\n').slice(-5).join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
