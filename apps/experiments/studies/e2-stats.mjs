// E2 study statistics (fixed before the runs; see studies/e2-figure-2.md): per objective ×
// parameterization, over the replicates of one configuration, from the run summaries listed by
// run-configs.mjs (its JSON lines on stdin or in the files named):
//   - within2: share of replicates with |mode(S) − 100| ≤ 2
//   - iqr: interquartile range of mode(S) (type-7 quantiles)
//   - median, min, max of mode(S); in-order share of the mode of q(Z | X)
//   - kdePeak / kdeAt100: location of the maximum of a Gaussian KDE of mode(S) on 80..120 (step
//     0.1, Silverman bandwidth with Figure 2's floor of 0.25) and its density at 100
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const files = process.argv.slice(2);
const text = files.length ? files.map((f) => readFileSync(f, 'utf8')).join('\n') : readFileSync(0, 'utf8');
const lines = text
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));

const q = (s, p) => {
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
};
function kde(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const s = [...values].sort((a, b) => a - b);
  const iqr = q(s, 0.75) - q(s, 0.25);
  const spread = iqr > 0 ? Math.min(sd, iqr / 1.34) : sd;
  const h = Math.max(0.25, 0.9 * spread * n ** -0.2); // silvermanBandwidth of e2/stats.ts (Figure 2)
  const at = (x) =>
    values.reduce((a, v) => a + Math.exp(-0.5 * ((x - v) / h) ** 2), 0) / (n * h * Math.sqrt(2 * Math.PI));
  let best = 80;
  for (let x = 80; x <= 120 + 1e-9; x += 0.1) if (at(x) > at(best)) best = x;
  return { bandwidth: h, kdePeak: best, kdeAt100: at(100) };
}

const groups = new Map();
for (const l of lines) {
  const s = JSON.parse(readFileSync(join(l.dir, 'summary.json'), 'utf8'));
  const r = s.result ?? s;
  const cfg = l.config;
  const cell = `${cfg.objective}/${cfg.parameterization}`;
  const key = `${JSON.stringify(l.overrides)} ${cell}`;
  if (!groups.has(key))
    groups.set(key, { overrides: l.overrides, cell, modes: [], inOrder: 0, failed: 0, seconds: 0 });
  const g = groups.get(key);
  g.seconds += l.seconds;
  if (r.failed) {
    g.failed++;
    continue;
  }
  g.modes.push(r.modeS);
  if (r.inOrder) g.inOrder++;
}
for (const g of groups.values()) {
  const s = [...g.modes].sort((a, b) => a - b);
  const n = s.length;
  const within2 = s.filter((v) => Math.abs(v - 100) <= 2).length;
  const out = {
    config: g.overrides,
    cell: g.cell,
    n,
    failed: g.failed,
    within2: `${within2}/${n}`,
    iqr: +(q(s, 0.75) - q(s, 0.25)).toFixed(2),
    median: +q(s, 0.5).toFixed(2),
    min: +s[0].toFixed(2),
    max: +s[n - 1].toFixed(2),
    inOrder: `${g.inOrder}/${n}`,
    ...Object.fromEntries(Object.entries(kde(s)).map(([k, v]) => [k, +v.toFixed(3)])),
    modes: s.map((v) => +v.toFixed(2)),
    secondsPerRun: +(g.seconds / Math.max(1, n + g.failed)).toFixed(1),
  };
  console.log(JSON.stringify(out));
}
