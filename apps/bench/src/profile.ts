// Profile one E3/E4 case on one backend: node --cpu-prof dist/profile.js <case> [backend] [steps].
// Prints the ms/step; the .cpuprofile goes where --cpu-prof-dir says (see README "Profiles").
import { type BackendName, initBackend } from '@gcvi/runtime';
import { caseKey, E3_CASES, runE3Case } from './e3.js';

const [key = 'e3-lp:1x1000', backend = 'wasm', steps = '2'] = process.argv.slice(2);
const c = E3_CASES.find((x) => caseKey(x) === key);
if (!c) throw new Error(`unknown case '${key}' (known: ${E3_CASES.map(caseKey).join(', ')})`);
await initBackend({ backend: backend as BackendName });
const run = await runE3Case(c, 1, 1, Number(steps));
process.stdout.write(`${key} on ${backend}: median ${run.timing.medianMs.toFixed(1)} ms/step\n`);

if (process.env.GCVI_TF_PROFILE) {
  const tf = await import('@tensorflow/tfjs-core');
  const info = await tf.profile(async () => {
    await runE3Case(c, 1, 0, 1);
    return [];
  });
  const byKernel = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    const name = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byKernel.get(name) ?? { ms: 0, n: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.n++;
    byKernel.set(name, e);
  }
  const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  process.stdout.write(
    `tf.profile, 2 steps, kernel total ${total.toFixed(0)} ms, ${info.kernels.length} kernel calls\n`,
  );
  for (const [k, e] of top)
    process.stdout.write(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(5)}× ${k}\n`);
}
