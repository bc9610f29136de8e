import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { e2Step, planE2 } from './dist/index.js';
import { initFit, fitStep } from '@gcvi/objectives';
await initBackend({});
const c = planE2('default')[0];
const tr = e2Step({ ...c, steps: 100 });
let st = initFit(tr.setup);
st = fitStep(st);
const eng = tf.engine();
const orig = eng.runKernel.bind(eng);
const sites = {};
eng.runKernel = (name, inputs, attrs) => {
  if (name === 'Identity' || name === 'Reshape') {
    const s = new Error().stack.split('\n').slice(2, 7).map((l) => l.trim().replace(/^at /, '').replace(/\(file:\/\/\/work\/main\//, '(').replace(/node_modules\/.pnpm\/[^/]+\/node_modules\//, '')).join(' < ');
    const k = `${name}: ${s}`;
    sites[k] = (sites[k] ?? 0) + 1;
  }
  return orig(name, inputs, attrs);
};
st = fitStep(st);
for (const [k, v] of Object.entries(sites).sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(v, k.slice(0, 400));
