import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { e2Step, planE2 } from './dist/index.js';
import { initFit, fitStep } from '@gcvi/objectives';
await initBackend({});
const c = planE2('default')[Number(process.env.IDX ?? 0)];
const tr = e2Step({ ...c, steps: 100, fusedAttention: process.env.FUSED !== "0" });
let st = initFit(tr.setup);
for (let i = 0; i < 3; i++) st = await fitStep(st);
const info = await tf.profile(async () => { st = await fitStep(st); });
const counts = {};
const times = {};
for (const k of info.kernels) { counts[k.name] = (counts[k.name] ?? 0) + 1; }
console.log(c.objective, c.parameterization, 'kernels', info.kernels.length);
console.log(Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${k}:${v}`).join(' '));
for (const k of info.kernels) { times[k.name] = (times[k.name] ?? 0) + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0); }
const tot = Object.values(times).reduce((a, b) => a + b, 0);
console.log('kernel ms total', tot.toFixed(2), Object.entries(times).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k}:${v.toFixed(2)}`).join(' '));
let t0 = performance.now();
for (let i = 0; i < 20; i++) st = await fitStep(st);
console.log('wall ms/step', ((performance.now() - t0) / 20).toFixed(1));
