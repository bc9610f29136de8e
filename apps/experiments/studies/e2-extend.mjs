// Study helper: continue finished E2 runs to more steps instead of starting them again.
//
//   node studies/e2-extend.mjs <storeRoot> '<base overrides>' '<longer overrides>' [filter]
//
// For every default-profile config matching `filter` (as in run-configs.mjs), the run of
// `{...config, ...base}` must be done; its final fit state (`fit-state.bin`, saved at its last
// step) is copied into the run directory of `{...config, ...longer}` together with that run's
// `config.json`, so that `run-configs.mjs` with the longer overrides resumes it there (the store
// sees a partial run; run-meta.json says `resumed: true` and msPerStep covers the new steps only).
//
// This is exact only when the longer config differs from the base in `steps` alone: the schedule
// and the random streams are functions of the step (fit's checkpoints carry the stream positions
// and the optimizer state; resuming is bit-for-bit an uninterrupted run, see @gcvi/objectives'
// fit tests), so the first `base.steps` steps of the longer run are the base run. The history is
// kept at the base run's spacing for those steps. Anything else is refused.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENTS, runId } from '../dist/index.js';

const [storeRoot, baseJson, longerJson, filterJson = '{}'] = process.argv.slice(2);
if (!storeRoot || !baseJson || !longerJson) {
  console.error('usage: node studies/e2-extend.mjs <storeRoot> <base overrides> <longer overrides> [filter]');
  process.exit(2);
}
const exp = EXPERIMENTS.find((e) => e.id === 'e2');
const base = JSON.parse(baseJson);
const longer = JSON.parse(longerJson);
const filter = JSON.parse(filterJson);
const ctx = {
  profile: 'default',
  profileName: 'default',
  outDir: storeRoot,
  generator: 'trained',
  backend: 'auto',
};
const planned = exp
  .plan(ctx)
  .filter((c) =>
    Object.entries(filter).every(([k, v]) => (Array.isArray(v) ? v.includes(c[k]) : c[k] === v)),
  );
let copied = 0;
for (const c of planned) {
  const a = exp.configSchema.parse({ ...c, ...base });
  const b = exp.configSchema.parse({ ...c, ...longer });
  const diff = Object.keys(a).filter((k) => a[k] !== b[k]);
  if (diff.length !== 1 || diff[0] !== 'steps' || !(b.steps > a.steps)) {
    throw new Error(`longer config must differ from the base in a larger 'steps' only (differs in: ${diff})`);
  }
  const fromDir = join(storeRoot, 'runs', 'e2', runId('e2', a));
  const toDir = join(storeRoot, 'runs', 'e2', runId('e2', b));
  if (!existsSync(join(fromDir, 'summary.json'))) {
    console.error(`base run ${fromDir} not done; skipped`);
    continue;
  }
  if (existsSync(join(toDir, 'config.json'))) continue; // already seeded or run
  mkdirSync(toDir, { recursive: true });
  copyFileSync(join(fromDir, 'fit-state.bin'), join(toDir, 'fit-state.bin'));
  writeFileSync(
    join(toDir, 'config.json'),
    `${JSON.stringify({ experiment: 'e2', id: runId('e2', b), config: b }, null, 2)}\n`,
  );
  copied++;
}
console.error(`seeded ${copied} run(s) from the base runs`);
