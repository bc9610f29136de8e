// Markdown table of e2-stats.mjs output (stdin): one row per cell, for the study note.
import { readFileSync } from 'node:fs';

const rows = readFileSync(0, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
console.log(
  '| cell | n | within2 | median | IQR | min | max | KDE argmax | KDE at 100 | in order | modes (sorted) | s/run (wall) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.cell} | ${r.n} | ${r.within2} | ${r.median} | ${r.iqr} | ${r.min} | ${r.max} | ${r.kdePeak} | ${r.kdeAt100} | ${r.inOrder} | ${r.modes.join(', ')} | ${r.secondsPerRun} |`,
  );
