/**
 * Wall time of one sbibm C2ST at two_moons sizes: 10,000 reference draws of observation 1 against
 * 10,000 draws of the same reference jittered by N(0, jitter²) noise (a realistic, hard-to-separate
 * pair: the classifier runs many epochs), with sbibm's classifier settings (c2st of @gcvi/inference).
 *
 *   node --import tsx bench/c2st.ts [task=two_moons] [jitter=0.02] [folds=5]
 */
import { loadavg } from 'node:os';
import { findSbibmData, loadSbibmReference, type SbibmTaskName } from '@gcvi/datasets';
import { c2st } from '@gcvi/inference';
import { createRng } from '@gcvi/runtime';

const task = (process.argv[2] ?? 'two_moons') as SbibmTaskName;
const jitter = Number(process.argv[3] ?? 0.02);
const folds = Number(process.argv[4] ?? 5);
const root = findSbibmData();
if (!root) throw new Error('sbibm data not found (GCVI_SBIBM_DIR)');
const ref = loadSbibmReference(task, 1, root);
if (!ref.samples) throw new Error(`${task} has no reference sample file`);
const { rows, dim: cols } = ref.samples;
const a: number[][] = [];
const b: number[][] = [];
const rng = createRng(7);
for (let i = 0; i < rows; i++) {
  const r = Array.from(ref.samples.values.subarray(i * cols, (i + 1) * cols));
  a.push(r);
  b.push(r.map((v) => v + jitter * rng.normal()));
}
const t0 = performance.now();
const res = c2st(a, b, { rng: createRng(1), folds });
const secs = (performance.now() - t0) / 1000;
console.log(
  `${task} C2ST ${rows} vs ${rows}, dim ${cols}, jitter ${jitter}: accuracy ${res.accuracy.toFixed(4)}, epochs ${res.epochs.join('/')}, ${secs.toFixed(1)} s (${(secs / res.epochs.reduce((s, e) => s + e, 0)).toFixed(4)} s/epoch; load ${loadavg()[0]!.toFixed(1)})`,
);
