// Study helper: run one experiment's configs (a profile's plan with some fields changed) into a
// results store, one after another in this process, and print each run's result as one JSON line.
//
//   node studies/run-configs.mjs <experiment> <profile> <storeRoot> '<json overrides>' [filter]
//
// `overrides` is an object merged into every planned config (e.g. '{"steps":2000,"lrEvery":500}');
// `filter` (optional) is an object whose fields a planned config must equal to be run
// (e.g. '{"method":"forwardKl"}'; an array value means "one of", e.g. '{"seed":[100,101]}'). Uses the built app (`pnpm build` first) and its results store,
// so a run with the same config is not run twice and the E3/E4 generator cache is shared.
import { join } from 'node:path';
import { initBackend } from '@gcvi/runtime';
import { EXPERIMENTS, executeRun, runId } from '../dist/index.js';

const [expId, profile, storeRoot, overridesJson = '{}', filterJson = '{}'] = process.argv.slice(2);
if (!expId || !profile || !storeRoot) {
  console.error(
    'usage: node studies/run-configs.mjs <experiment> <profile> <storeRoot> [overrides] [filter]',
  );
  process.exit(2);
}
const exp = EXPERIMENTS.find((e) => e.id === expId);
if (!exp) throw new Error(`unknown experiment ${expId}`);
const overrides = JSON.parse(overridesJson);
const filter = JSON.parse(filterJson);
await initBackend({ backend: process.env.GCVI_BACKEND ?? 'auto' });
const ctx = { profile, profileName: profile, outDir: storeRoot, generator: 'trained', backend: 'auto' };
const configs = exp
  .plan(ctx)
  .filter((c) => Object.entries(filter).every(([k, v]) => (Array.isArray(v) ? v.includes(c[k]) : c[k] === v)))
  .map((c) => ({ ...c, ...overrides }));
for (const config of configs) {
  const parsed = exp.configSchema.parse(config);
  const id = runId(exp.id, parsed);
  const t0 = performance.now();
  const out = await executeRun(
    EXPERIMENTS,
    {
      experiment: exp.id,
      id,
      config: parsed,
      storeRoot,
      label: exp.label(parsed),
    },
    { log: (m) => console.error(`[${id}] ${m}`) },
  );
  if (!out.ok) {
    console.error(out.error);
    process.exitCode = 1;
    continue;
  }
  const dir = join(storeRoot, 'runs', exp.id, id);
  console.log(
    JSON.stringify({
      id,
      dir,
      mode: out.mode,
      seconds: (performance.now() - t0) / 1000,
      overrides,
      config: parsed,
    }),
  );
}
