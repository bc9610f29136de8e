#!/usr/bin/env node
// Installing a package on its own must work: for each target package (default: distributions),
// pack it and the @gcvi packages it depends on (not on the registry yet) with `pnpm pack`, install
// the tarballs into a fresh project outside the workspace with each package manager (default: npm
// and pnpm), and run the package README's example there.
//
//   node scripts/pack-install-test.mjs [package ...] [--pm=npm,pnpm]
//
// Bare imports of the example that are not @gcvi packages (e.g. @tensorflow/tfjs-core) are
// installed too, at the version the workspace packages depend on, as a user following the README
// would. Each run prints the example's last output lines.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const pmArg = args.find((a) => a.startsWith('--pm='));
const managers = pmArg ? pmArg.slice(5).split(',').filter(Boolean) : ['npm', 'pnpm'];
const targets = args.filter((a) => !a.startsWith('--'));
if (targets.length === 0) targets.push('distributions');
for (const pm of managers) {
  if (pm !== 'npm' && pm !== 'pnpm') throw new Error(`--pm: unknown package manager '${pm}' (npm, pnpm)`);
}

const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const readPkg = (name) => JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));

/** The target and every @gcvi package it needs at run time (dependencies, not devDependencies). */
function workspaceDeps(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const [dep, range] of Object.entries(readPkg(name).dependencies ?? {})) {
    if (String(range).startsWith('workspace:')) workspaceDeps(dep.replace('@gcvi/', ''), seen);
  }
  return seen;
}

/** Package names imported by the example (`from '...'`), without subpaths and node: builtins. */
function bareImports(code) {
  const out = new Set();
  for (const m of code.matchAll(/from\s+'([^']+)'/g)) {
    const spec = m[1];
    if (spec.startsWith('node:') || spec.startsWith('.')) continue;
    const parts = spec.split('/');
    out.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return [...out];
}

/** The version range the workspace packages give a registry dependency. */
function workspaceRange(dep) {
  for (const name of readdirSync(join(root, 'packages'))) {
    let pkg;
    try {
      pkg = readPkg(name);
    } catch {
      continue;
    }
    const r = pkg.dependencies?.[dep] ?? pkg.devDependencies?.[dep];
    if (r && !String(r).startsWith('workspace:')) return r;
  }
  throw new Error(`the README example imports '${dep}', which no workspace package depends on`);
}

for (const target of targets) {
  const readme = readFileSync(join(root, 'packages', target, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error(`packages/${target}/README.md has no \`\`\`ts example block`);
  const imports = bareImports(block[1]);
  const gcvi = new Set(workspaceDeps(target));
  for (const i of imports) if (i.startsWith('@gcvi/')) for (const d of workspaceDeps(i.slice(6))) gcvi.add(d);
  const registry = imports.filter((i) => !i.startsWith('@gcvi/')).map((i) => `${i}@${workspaceRange(i)}`);

  const work = mkdtempSync(join(tmpdir(), 'gcvi-pack-'));
  try {
    mkdirSync(join(work, 'tarballs'));
    for (const name of gcvi) {
      run('pnpm', ['pack', '--pack-destination', join(work, 'tarballs')], join(root, 'packages', name));
    }
    const tarballs = readdirSync(join(work, 'tarballs')).map((f) => join(work, 'tarballs', f));
    for (const pm of managers) {
      const app = join(work, `app-${pm}`);
      mkdirSync(app);
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({
          name: 'pack-test',
          private: true,
          type: 'module',
          // pnpm: every @gcvi tarball stands for its registry version (they depend on each other)
          pnpm: { overrides: Object.fromEntries(tarballs.map((t) => [tarballName(t), `file:${t}`])) },
        }),
      );
      if (pm === 'npm') {
        run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...registry], app);
      } else {
        run('pnpm', ['add', '--config.confirmModulesPurge=false', ...tarballs, ...registry], app);
      }
      // The README example exports `main`; call it.
      writeFileSync(join(app, 'example.ts'), `${block[1]}\nconsole.log(JSON.stringify(await main()));\n`);
      const tsx = join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
      const out = run(process.execPath, ['--import', tsx, 'example.ts'], app);
      console.log(
        `pack-install (${pm}): @gcvi/${target} installed from ${tarballs.length} tarballs${
          registry.length ? ` + ${registry.join(', ')}` : ''
        }; README example printed:`,
      );
      console.log(out.trim().split('\n').slice(-5).join('\n'));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `gcvi-runtime-0.1.0.tgz` → `@gcvi/runtime`. */
function tarballName(file) {
  const base = file.split('/').pop();
  const m = /^gcvi-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(base);
  if (!m) throw new Error(`unexpected tarball name ${base}`);
  return `@gcvi/${m[1]}`;
}
