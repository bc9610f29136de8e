#!/usr/bin/env node
// Installing a published package on its own must work, as a user meets it. For each target package
// (default: every published one, i.e. every packages/* and apps/* without "private": true):
//
//   1. pack every published @gcvi package with `pnpm pack` (workspace:* becomes the version), and
//      check each tarball: LICENSE, README.md, package.json, the entry point and its types are in;
//      no source maps, src/, test/, examples/ or .turbo/ are;
//   2. check each README: an `npm install …` line naming the package, and an example that imports
//      only what that line installs (what pnpm enforces in a user's project);
//   3. in one fresh project outside the workspace per package manager (default: npm and pnpm),
//      install what every target README's line names (@gcvi names from the tarballs, the rest from
//      the registry; the @gcvi packages those depend on are routed to their tarballs by overrides,
//      as the registry would serve them), save each README's first ```ts block as a file and run
//      it as the README says (`npx tsx example.ts`: node with tsx): exit code 0 and some output;
//   4. typecheck the examples with `tsc --noEmit` and `skipLibCheck: false`, so every published
//      `.d.ts` they reach (ours and our dependencies') must compile.
//
//   node scripts/pack-install-test.mjs [package ...] [--pm=npm,pnpm]
//
// Needs the packages built (`pnpm turbo run build`). tsx and typescript are the workspace's (the
// versions in the lockfile), run from outside the fresh project; @types/node is installed in it.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const pmArg = args.find((a) => a.startsWith('--pm='));
const managers = pmArg ? pmArg.slice(5).split(',').filter(Boolean) : ['npm', 'pnpm'];
for (const pm of managers) {
  if (pm !== 'npm' && pm !== 'pnpm') fail(`--pm: unknown package manager '${pm}' (npm, pnpm)`);
}
const unknownFlag = args.find((a) => a.startsWith('--') && !a.startsWith('--pm='));
if (unknownFlag) fail(`unknown option ${unknownFlag} (use --pm=npm,pnpm)`);

/** Every workspace package: short name → { dir, pkg }. */
const workspace = new Map();
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const file = join(root, group, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    workspace.set(pkg.name, { dir: join(root, group, name), pkg });
  }
}
const published = [...workspace.entries()].filter(([, w]) => !w.pkg.private).map(([name]) => name);
const byShort = (s) => (s.startsWith('@gcvi/') ? s : `@gcvi/${s}`);
const targets = args.filter((a) => !a.startsWith('--')).map(byShort);
if (targets.length === 0) targets.push(...published);
for (const t of targets) {
  if (!workspace.has(t)) fail(`${t}: no such workspace package (published ones: ${published.join(', ')})`);
  if (workspace.get(t).pkg.private) fail(`${t} is private (not published): nothing to pack`);
}

const tsx = join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
for (const f of [tsx, tsc]) {
  if (!existsSync(f)) fail(`${f} is missing: run pnpm install in the workspace first`);
}

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'gcvi-pack-'));
const results = [];
let failures = 0;
try {
  // 1. Pack every published package once and check what each tarball carries.
  const tarDir = join(work, 'tarballs');
  mkdirSync(tarDir);
  const tarball = new Map();
  for (const name of published) {
    const { dir, pkg } = workspace.get(name);
    if (!existsSync(join(dir, 'dist')))
      fail(`${name}: ${dir}/dist is missing: run pnpm turbo run build first`);
    const before = new Set(readdirSync(tarDir));
    run('pnpm', ['pack', '--pack-destination', tarDir], dir);
    const file = readdirSync(tarDir).find((f) => !before.has(f));
    if (!file) fail(`${name}: pnpm pack wrote no tarball`);
    tarball.set(name, join(tarDir, file));
    const problems = checkTarball(pkg, join(tarDir, file));
    const size = statSync(join(tarDir, file)).size;
    const files = run('tar', ['tzf', join(tarDir, file)], work)
      .trim()
      .split('\n').length;
    console.log(
      `pack ${name}: ${file}, ${(size / 1024).toFixed(0)} kB, ${files} files${problems.length ? '' : ', contents ok'}`,
    );
    for (const p of problems) {
      console.log(`  FAIL ${name} tarball: ${p}`);
      failures++;
    }
  }

  // 2. What each README tells a user to install, and what its example imports.
  const plans = [];
  for (const name of targets) {
    const { dir } = workspace.get(name);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const install = /```sh\n\s*npm install ([^\n]+)\n/.exec(readme)?.[1]?.trim().split(/\s+/);
    const problems = [];
    if (!example || !install) problems.push('README.md needs an `npm install …` block and a ```ts example');
    else {
      if (!install.includes(name)) problems.push(`its npm install line does not name ${name}`);
      for (const spec of install) {
        if (spec.startsWith('@gcvi/') && !tarball.has(spec))
          problems.push(`it installs ${spec}, not a published package`);
      }
      // Under pnpm a project imports only what it installed itself: the example may import only
      // packages of the install line (checked here, since the test project below installs the
      // packages of every README at once).
      for (const i of bareImports(example)) {
        if (!install.includes(i)) problems.push(`the example imports ${i}, which its npm install line lacks`);
      }
    }
    for (const p of problems) {
      console.log(`FAIL ${name} README: ${p}`);
      failures++;
    }
    if (problems.length === 0) plans.push({ name, short: name.slice(6), example, install });
  }

  // 3–4. One fresh project per package manager holding every README's install line; in it each
  // example runs as its README says and all of them typecheck.
  const deps = {};
  for (const { install } of plans) {
    for (const spec of install)
      deps[spec] = spec.startsWith('@gcvi/') ? `file:${tarball.get(spec)}` : registryRange(spec);
  }
  // Transitive @gcvi dependencies come from the tarballs, as the registry would serve them.
  const overrides = Object.fromEntries([...tarball].map(([n, f]) => [n, `file:${f}`]));
  for (const pm of plans.length ? managers : []) {
    const app = join(work, `app-${pm}`);
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify(
        {
          name: 'gcvi-pack-test',
          private: true,
          type: 'module',
          dependencies: deps,
          // What a TypeScript user adds to typecheck: tsc's Node types, and @types/long, whose global
          // `Long` tfjs-core's .d.ts use (npm hoists it from tfjs-core's dependencies, pnpm does not).
          devDependencies: { '@types/node': registryRange('@types/node'), '@types/long': '^4.0.1' },
          ...(pm === 'npm' ? { overrides } : { pnpm: { overrides } }),
        },
        null,
        2,
      )}\n`,
    );
    for (const { short, example } of plans) writeFileSync(join(app, `example-${short}.ts`), example);
    writeFileSync(
      join(app, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            // tfjs-core's own .d.ts name browser types (WebGLTexture, HTMLVideoElement): it needs "DOM".
            lib: ['ES2023', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: false,
            noEmit: true,
          },
          files: plans.map((p) => `example-${p.short}.ts`),
        },
        null,
        2,
      )}\n`,
    );
    const step = (what, cmd, cmdArgs, timeoutMs) => {
      const r = spawnSync(cmd, cmdArgs, {
        cwd: app,
        encoding: 'utf8',
        timeout: timeoutMs,
        env: { ...process.env, GCVI_BACKEND: '', npm_config_loglevel: 'error' },
      });
      if (r.status === 0) return r.stdout;
      const why = r.error ? r.error.message : `exit code ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
      const err = new Error(`${what} failed: ${why}`);
      err.output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim();
      throw err;
    };
    const tail = (text, n = 15) => (text ?? '').split('\n').slice(-n).join('\n    ');
    let t0 = Date.now();
    try {
      if (pm === 'npm') step('npm install', 'npm', ['install', '--no-audit', '--no-fund'], 900_000);
      else step('pnpm install', 'pnpm', ['install', '--config.confirmModulesPurge=false'], 900_000);
    } catch (e) {
      failures += plans.length;
      console.log(`FAIL (${pm}): ${e.message}\n    ${tail(e.output)}`);
      continue;
    }
    const installed = Number(run('du', ['-sk', 'node_modules'], app).split(/\s/)[0]) / 1024;
    console.log(
      `${pm}: installed ${Object.keys(deps).join(' ')} from ${tarball.size} tarballs + the registry in ` +
        `${((Date.now() - t0) / 1000).toFixed(0)} s; node_modules ${installed.toFixed(0)} MB`,
    );
    for (const { name, short } of plans) {
      t0 = Date.now();
      try {
        const out = step(
          'npx tsx example.ts',
          process.execPath,
          ['--import', tsx, `example-${short}.ts`],
          600_000,
        ).trim();
        if (out === '')
          throw new Error('npx tsx example.ts printed nothing: does the example call main() when run?');
        const last = out.split('\n').slice(-1)[0].slice(0, 140);
        console.log(
          `ok ${name} (${pm}): README example ran in ${((Date.now() - t0) / 1000).toFixed(0)} s; last line: ${last}`,
        );
        results.push({ name, pm, what: 'run', ok: true });
      } catch (e) {
        failures++;
        console.log(`FAIL ${name} (${pm}): ${e.message}\n    ${tail(e.output)}`);
      }
    }
    t0 = Date.now();
    try {
      step('tsc', process.execPath, [tsc, '-p', '.'], 600_000);
      console.log(
        `ok (${pm}): every example typechecks with skipLibCheck false in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
      );
      for (const { name } of plans) results.push({ name, pm, what: 'tsc', ok: true });
    } catch (e) {
      const lines = (e.output ?? '').split('\n').filter((l) => /error TS/.test(l));
      for (const { name, short } of plans) {
        const mine = lines.filter((l) => l.startsWith(`example-${short}.ts`));
        if (mine.length) {
          failures++;
          console.log(
            `FAIL ${name} (${pm}): tsc --skipLibCheck false:\n    ${mine.slice(0, 10).join('\n    ')}`,
          );
        } else results.push({ name, pm, what: 'tsc', ok: true });
      }
      const libs = lines.filter((l) => !/^example-/.test(l));
      if (libs.length || lines.length === 0) {
        failures++;
        console.log(
          `FAIL (${pm}): tsc --skipLibCheck false in published types:\n    ${tail((libs.length ? libs : [e.output]).join('\n'), 20)}`,
        );
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
console.log(
  `pack-install: ${targets.length} packages × ${managers.join('+')} (README example run + typecheck each) in ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s`,
);
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);

function run(cmd, cmdArgs, cwd) {
  return execFileSync(cmd, cmdArgs, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

function fail(message) {
  console.error(`pack-install-test: ${message}`);
  process.exit(2);
}

/** The version range the workspace packages give a registry dependency (the README installs it). */
function registryRange(dep) {
  for (const { pkg } of workspace.values()) {
    const r = pkg.dependencies?.[dep] ?? pkg.peerDependencies?.[dep] ?? pkg.devDependencies?.[dep];
    if (r && !String(r).startsWith('workspace:')) return r;
  }
  fail(`a README installs '${dep}', which no workspace package depends on`);
}

/** Package names imported by an example (`from '...'`), without subpaths and node: builtins. */
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

/** What a tarball must and must not carry. */
function checkTarball(pkg, file) {
  const entries = run('tar', ['tzf', file], dirname(file))
    .trim()
    .split('\n')
    .map((e) => e.replace(/^package\//, ''));
  const has = new Set(entries);
  const problems = [];
  const entry = (pkg.exports?.['.']?.default ?? pkg.main ?? '').replace(/^\.\//, '');
  const types = (pkg.exports?.['.']?.types ?? pkg.types ?? '').replace(/^\.\//, '');
  for (const need of ['LICENSE', 'README.md', 'package.json', entry, types]) {
    if (need && !has.has(need)) problems.push(`${need} is missing`);
  }
  for (const [sub, conds] of Object.entries(pkg.exports ?? {})) {
    for (const [cond, target] of Object.entries(conds)) {
      if (cond === '@gcvi/source') continue;
      if (!has.has(target.replace(/^\.\//, '')))
        problems.push(`exports['${sub}'].${cond} → ${target} is missing`);
    }
  }
  const unwanted = entries.filter((e) =>
    /\.map$|^src\/|^test\/|^examples\/|(^|\/)\.turbo\/|\.test\.[jt]s$/.test(e),
  );
  if (unwanted.length)
    problems.push(`carries ${unwanted.slice(0, 5).join(', ')}${unwanted.length > 5 ? ', …' : ''}`);
  return problems;
}
