import { basename, join } from 'node:path';
import { escapeHtml as esc, mdCell, tableHtml, tableMarkdown } from '../core/tables.js';
import { writeFileAtomic } from '../store/atomic.js';
import { liveAssets, liveBootHtml, liveFigureHtml, liveHeadHtml } from './live.js';
import type { ExperimentResult, Invocation, ProfileSummary } from './types.js';

export interface ReportInput {
  readonly profile: string;
  readonly summary: ProfileSummary;
  readonly invocation: Invocation;
  readonly experiments: readonly ExperimentResult[];
}

const BADGE: Record<string, string> = { pass: 'PASS', fail: 'FAIL', 'n/a': 'n/a' };

function metadata(input: ReportInput): Array<[string, string]> {
  const s = input.summary;
  const inv = input.invocation;
  const c = inv.counts;
  return [
    ['Profile', input.profile],
    ['Backend', s.backend.description],
    ['Executor', inv.executor],
    ['Started', inv.startedAt],
    ['Finished', inv.finishedAt],
    ['Wall time (this invocation)', `${inv.wallSeconds.toFixed(1)} s`],
    [
      'Runs',
      `${c.planned} planned, ${c.skipped} already finished, ${c.executed} executed, ${c.byOthers} finished by another process, ${c.failed} failed`,
    ],
    [
      'Versions',
      Object.entries(s.versions)
        .map(([k, x]) => `${k} ${x}`)
        .join(', '),
    ],
  ];
}

export function renderMarkdown(input: ReportInput): string {
  const L: string[] = [];
  L.push(
    `# Reproduction report: "Globally Convergent Variational Inference" (profile \`${input.profile}\`)`,
    '',
  );
  L.push(
    "Every claim below is checked against the numbers of this profile's runs with a fixed threshold; a claim that does not reproduce is reported as FAIL with its numbers. Nothing is tuned to pass.",
    '',
  );
  L.push('| | |', '|---|---|');
  for (const [k, v] of metadata(input)) L.push(`| ${k} | ${mdCell(v)} |`);
  L.push('');
  for (const e of input.experiments) {
    L.push(`## ${e.id.toUpperCase()}: ${e.title}`, '');
    if (!e.complete) {
      L.push(
        `**Incomplete:** ${String(e.incomplete)}. No figures, tables or claims for this experiment.`,
        '',
      );
    }
    if (e.claims.length) {
      L.push('### Claims', '', '| Claim | Paper | Check | Measured | Result |', '|---|---|---|---|---|');
      for (const c of e.claims) {
        L.push(
          `| ${c.id} | ${mdCell(c.paper)} | ${mdCell(c.test)} | ${mdCell(c.measured)} | **${BADGE[c.status]}** |`,
        );
      }
      L.push('');
    }
    for (const t of e.tables) {
      L.push(`### ${t.def.title}`, '', tableMarkdown(t.def), '');
      if (t.def.paperCaption) L.push(`*Paper:* ${t.def.paperCaption}`, '');
      const related = e.claims.filter((c) => c.figures.includes(t.def.name));
      for (const c of related) L.push(`- ${BADGE[c.status]}: ${c.paper} Measured: ${c.measured}`);
      if (related.length) L.push('');
      for (const n of t.def.notes ?? []) L.push(n, '');
      L.push(
        `Table: [\`tables/${basename(t.files.md)}\`](tables/${basename(t.files.md)}), numbers: [\`tables/${basename(t.files.csv)}\`](tables/${basename(t.files.csv)})`,
        '',
      );
    }
    for (const f of e.figures) {
      L.push(`### ${f.def.title}`, '');
      L.push(`![${f.def.title}](figures/${basename(f.files.png)})`, '');
      L.push(`*Paper:* ${f.def.paperCaption}`, '');
      const related = e.claims.filter((c) => c.figures.includes(f.def.name));
      for (const c of related) L.push(`- ${BADGE[c.status]}: ${c.paper} Measured: ${c.measured}`);
      if (related.length) L.push('');
      L.push(
        `Data: [\`figures/${basename(f.files.csv)}\`](figures/${basename(f.files.csv)}), spec: [\`figures/${basename(f.files.spec)}\`](figures/${basename(f.files.spec)}), SVG: [\`figures/${basename(f.files.svg)}\`](figures/${basename(f.files.svg)})`,
        '',
      );
    }
    L.push('### Deviations from the paper in this profile', '');
    if (e.deviations.length === 0) L.push('None.');
    for (const d of e.deviations) L.push(`- ${d}`);
    L.push('');
  }
  L.push(
    '## Runs',
    '',
    '| Experiment | Run | Id | Seed | This invocation | Seconds (last session) | Directory |',
    '|---|---|---|---|---|---|---|',
  );
  for (const r of input.invocation.runs) {
    L.push(
      `| ${r.experiment} | ${mdCell(r.label)} | \`${r.id}\` | ${r.seed ?? ''} | ${r.outcome} | ${r.wallSeconds === null ? '' : r.wallSeconds.toFixed(1)} | \`${r.dir}\` |`,
    );
  }
  L.push('');
  return L.join('\n');
}

export function renderHtml(input: ReportInput): string {
  const H: string[] = [];
  H.push(
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>gcvi reproduction (${esc(input.profile)})</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}',
    'table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}',
    '.pass{color:#fff;background:#2a7d2a;padding:1px 6px;border-radius:3px}.fail{color:#fff;background:#b3261e;padding:1px 6px;border-radius:3px}',
    '.na{background:#ddd;padding:1px 6px;border-radius:3px}.fig{display:flex;gap:1.5em;align-items:flex-start;margin:1.5em 0;flex-wrap:wrap}',
    '.fig img{max-width:620px;border:1px solid #eee}.fig .side{flex:1;min-width:280px}code{background:#f4f4f4;padding:0 3px}</style>',
    liveHeadHtml(),
    '</head><body>',
  );
  H.push(
    `<h1>Reproduction report: “Globally Convergent Variational Inference” (profile <code>${esc(input.profile)}</code>)</h1>`,
  );
  H.push(
    '<p>Every claim is checked against this profile’s numbers with a fixed threshold; a claim that does not reproduce is shown as FAIL with its numbers. Nothing is tuned to pass.</p>',
  );
  H.push(
    '<p>Figures are live Vega-Lite views (hover for values; the static SVG is the fallback). E1 also runs live in your browser: <code>pnpm --filter demo build</code>, serve <code>apps/demo/dist</code> (e.g. <code>npx vite preview --outDir apps/demo/dist</code>) and open it; see <a href="../../../demo/README.md">apps/demo</a>.</p>',
  );
  H.push('<table>');
  for (const [k, v] of metadata(input)) H.push(`<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`);
  H.push('</table>');
  const badge = (s: string) => `<span class="${s === 'n/a' ? 'na' : s}">${BADGE[s]}</span>`;
  for (const e of input.experiments) {
    H.push(`<h2>${esc(e.id.toUpperCase())}: ${esc(e.title)}</h2>`);
    if (!e.complete) H.push(`<p><b>Incomplete:</b> ${esc(String(e.incomplete))}.</p>`);
    if (e.claims.length) {
      H.push(
        '<h3>Claims</h3><table><tr><th>Claim</th><th>Paper</th><th>Check</th><th>Measured</th><th>Result</th></tr>',
      );
      for (const c of e.claims) {
        H.push(
          `<tr><td>${esc(c.id)}</td><td>${esc(c.paper)}</td><td>${esc(c.test)}</td><td>${esc(c.measured)}</td><td>${badge(c.status)}</td></tr>`,
        );
      }
      H.push('</table>');
    }
    for (const t of e.tables) {
      const related = e.claims.filter((c) => c.figures.includes(t.def.name));
      H.push(`<h3>${esc(t.def.title)}</h3>`, tableHtml(t.def));
      if (t.def.paperCaption) H.push(`<p><b>Paper:</b> ${esc(t.def.paperCaption)}</p>`);
      if (related.length)
        H.push(
          `<ul>${related.map((c) => `<li>${badge(c.status)} ${esc(c.paper)} <i>Measured:</i> ${esc(c.measured)}</li>`).join('')}</ul>`,
        );
      for (const n of t.def.notes ?? []) H.push(`<p>${esc(n)}</p>`);
      H.push(
        `<p>Table: <a href="tables/${esc(basename(t.files.md))}">${esc(basename(t.files.md))}</a> · numbers: <a href="tables/${esc(basename(t.files.csv))}">${esc(basename(t.files.csv))}</a></p>`,
      );
    }
    for (const f of e.figures) {
      const related = e.claims.filter((c) => c.figures.includes(f.def.name));
      H.push(`<h3>${esc(f.def.title)}</h3><div class="fig">`);
      H.push(
        liveFigureHtml({
          name: f.def.name,
          spec: f.def.spec,
          svg: `figures/${basename(f.files.svg)}`,
          alt: f.def.title,
        }),
      );
      H.push(`<div class="side"><p><b>Paper:</b> ${esc(f.def.paperCaption)}</p><ul>`);
      for (const c of related)
        H.push(`<li>${badge(c.status)} ${esc(c.paper)} <i>Measured:</i> ${esc(c.measured)}</li>`);
      H.push(
        `</ul><p>Data: <a href="figures/${esc(basename(f.files.csv))}">${esc(basename(f.files.csv))}</a> · spec: <a href="figures/${esc(basename(f.files.spec))}">${esc(basename(f.files.spec))}</a> · <a href="figures/${esc(basename(f.files.png))}">PNG</a></p></div></div>`,
      );
    }
    H.push('<h3>Deviations from the paper in this profile</h3>');
    H.push(
      e.deviations.length
        ? `<ul>${e.deviations.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>`
        : '<p>None.</p>',
    );
  }
  H.push(
    '<h2>Runs</h2><table><tr><th>Experiment</th><th>Run</th><th>Id</th><th>Seed</th><th>This invocation</th><th>Seconds (last session)</th><th>Directory</th></tr>',
  );
  for (const r of input.invocation.runs) {
    H.push(
      `<tr><td>${esc(r.experiment)}</td><td>${esc(r.label)}</td><td><code>${esc(r.id)}</code></td><td>${esc(String(r.seed ?? ''))}</td><td>${esc(r.outcome)}</td><td>${r.wallSeconds === null ? '' : r.wallSeconds.toFixed(1)}</td><td><code>${esc(r.dir)}</code></td></tr>`,
    );
  }
  H.push('</table>', liveBootHtml(), '</body></html>', '');
  return H.join('\n');
}

/** Write `report.md` and `report.html` into the profile's result folder (atomically). */
export function writeReport(dir: string, input: ReportInput): { md: string; html: string } {
  const md = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  writeFileAtomic(md, renderMarkdown(input));
  liveAssets(dir);
  writeFileAtomic(html, renderHtml(input));
  return { md, html };
}
