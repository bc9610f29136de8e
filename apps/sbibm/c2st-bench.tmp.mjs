import { c2st } from '@gcvi/inference';
import { createRng } from '@gcvi/runtime';

const d = Number(process.argv[2] ?? 10),
  shift = Number(process.argv[3] ?? 0.3);
const rng = createRng(1);
const n = 10000;
const a = [],
  b = [];
for (let i = 0; i < n; i++) {
  const r = [],
    s = [];
  for (let j = 0; j < d; j++) {
    r.push(rng.normal());
    s.push(rng.normal() * (1 + shift));
  }
  a.push(r);
  b.push(s);
}
const t = performance.now();
const res = c2st(a, b, { rng: createRng(2), maxEpochs: Number(process.argv[4] ?? 10000) });
console.log(d, shift, res.accuracy.toFixed(3), res.epochs, ((performance.now() - t) / 1000).toFixed(1), 's');
