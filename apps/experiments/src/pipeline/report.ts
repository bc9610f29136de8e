import { basename, join } from 'node:path';
import { escapeHtml as esc, mdCode, mdText, tableHtml, tableMarkdown } from '../core/tables.js';
import type { CheckedClaim } from '../core/types.js';
import { REPORT_CONTENT_WIDTH } from '../experiments/figure-style.js';
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

/** A claim's note beside its status, naming the profile: `quick profile: too short to show: …`. */
function noteText(input: ReportInput, c: CheckedClaim): string | undefined {
  return c.note ? `${input.profile} profile: ${c.note}` : undefined;
}

/** What the report says at the top about a profile too small to check most claims (none otherwise). */
function scaleIntro(input: ReportInput): string | undefined {
  if (input.summary.baseProfile !== 'quick') return undefined;
  return 'This is the quick profile: a smoke test of the pipeline, sized to finish in minutes, with runs far shorter than the paper’s (each experiment lists its deviations). Most claims cannot show at this scale; a FAIL from runs shorter than the default profile (which is sized to check every claim) says so beside it. Its FAILs are not evidence about the paper; run the default profile for that.';
}

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

/** A claim listed under its figure or table: `- FAIL (note): paper Measured: …`. */
function claimLine(input: ReportInput, c: CheckedClaim): string {
  const note = noteText(input, c);
  return `- ${BADGE[c.status]}${note ? ` (${mdText(note)})` : ''}: ${mdText(c.paper)} Measured: ${mdText(c.measured)}`;
}

export function renderMarkdown(input: ReportInput): string {
  const L: string[] = [];
  L.push(
    `# Reproduction report: "Globally Convergent Variational Inference" (profile ${mdCode(input.profile)})`,
    '',
  );
  L.push(
    "Every claim below is checked against the numbers of this profile's runs with a fixed threshold; a claim that does not reproduce is reported as FAIL with its numbers. Nothing is tuned to pass.",
    '',
  );
  const intro = scaleIntro(input);
  if (intro) L.push(`> ${mdText(intro)}`, '');
  L.push('| | |', '|---|---|');
  for (const [k, v] of metadata(input)) L.push(`| ${mdText(k)} | ${mdText(v)} |`);
  L.push('');
  for (const e of input.experiments) {
    L.push(`## ${mdText(`${e.id.toUpperCase()}: ${e.title}`)}`, '');
    if (!e.complete) {
      L.push(
        `**Incomplete:** ${mdText(String(e.incomplete))}. No figures, tables or claims for this experiment.`,
        '',
      );
    }
    if (e.claims.length) {
      L.push('### Claims', '', '| Claim | Paper | Check | Measured | Result |', '|---|---|---|---|---|');
      for (const c of e.claims) {
        const note = noteText(input, c);
        L.push(
          `| ${mdText(c.id)} | ${mdText(c.paper)} | ${mdText(c.test)} | ${mdText(c.measured)} | **${BADGE[c.status]}**${note ? ` (${mdText(note)})` : ''} |`,
        );
      }
      L.push('');
    }
    for (const t of e.tables) {
      L.push(`### ${mdText(t.def.title)}`, '', tableMarkdown(t.def), '');
      if (t.def.paperCaption) L.push(`*Paper:* ${mdText(t.def.paperCaption)}`, '');
      const related = e.claims.filter((c) => c.figures.includes(t.def.name));
      for (const c of related) L.push(claimLine(input, c));
      if (related.length) L.push('');
      for (const n of t.def.notes ?? []) L.push(mdText(n), '');
      L.push(
        `Table: [\`tables/${basename(t.files.md)}\`](tables/${basename(t.files.md)}), numbers: [\`tables/${basename(t.files.csv)}\`](tables/${basename(t.files.csv)})`,
        '',
      );
    }
    for (const f of e.figures) {
      L.push(`### ${mdText(f.def.title)}`, '');
      L.push(`![${mdText(f.def.title)}](figures/${basename(f.files.png)})`, '');
      L.push(`*Paper:* ${mdText(f.def.paperCaption)}`, '');
      const related = e.claims.filter((c) => c.figures.includes(f.def.name));
      for (const c of related) L.push(claimLine(input, c));
      if (related.length) L.push('');
      L.push(
        `Data: [\`figures/${basename(f.files.csv)}\`](figures/${basename(f.files.csv)}), spec: [\`figures/${basename(f.files.spec)}\`](figures/${basename(f.files.spec)}), SVG: [\`figures/${basename(f.files.svg)}\`](figures/${basename(f.files.svg)})`,
        '',
      );
    }
    L.push('### Deviations from the paper in this profile', '');
    if (e.deviations.length === 0) L.push('None.');
    for (const d of e.deviations) L.push(`- ${mdText(d)}`);
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
      `| ${mdText(r.experiment)} | ${mdText(r.label)} | ${mdCode(r.id, true)} | ${mdText(String(r.seed ?? ''))} | ${mdText(r.outcome)} | ${r.wallSeconds === null ? '' : r.wallSeconds.toFixed(1)} | ${mdText(r.dir)} |`,
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
    // figures are shown at their natural size (never shrunk: their tick labels stay ≥ 10 px); the
    // content column is REPORT_CONTENT_WIDTH px wide and a figure wider than it scrolls
    `<style>body{font-family:system-ui,sans-serif;max-width:${REPORT_CONTENT_WIDTH}px;margin:2em auto;padding:0 16px;line-height:1.45}`,
    'table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}',
    '.pass{color:#fff;background:#2a7d2a;padding:1px 6px;border-radius:3px}.fail{color:#fff;background:#b3261e;padding:1px 6px;border-radius:3px}',
    '.na{background:#ddd;padding:1px 6px;border-radius:3px}.note{color:#555;font-size:0.9em}.intro{background:#fff4d6;border-left:4px solid #e0a800;padding:0.5em 1em}',
    '.fig{margin:1.5em 0}.fig .gcvi-live{max-width:100%;overflow-x:auto}.fig img{max-width:none;border:1px solid #eee}.fig .side{max-width:60em}code{background:#f4f4f4;padding:0 3px}</style>',
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
  const intro = scaleIntro(input);
  if (intro) H.push(`<p class="intro">${esc(intro)}</p>`);
  H.push('<table>');
  for (const [k, v] of metadata(input)) H.push(`<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`);
  H.push('</table>');
  const badge = (s: string) => `<span class="${s === 'n/a' ? 'na' : s}">${BADGE[s]}</span>`;
  const noted = (c: CheckedClaim) => {
    const note = noteText(input, c);
    return `${badge(c.status)}${note ? ` <span class="note">(${esc(note)})</span>` : ''}`;
  };
  for (const e of input.experiments) {
    H.push(`<h2>${esc(e.id.toUpperCase())}: ${esc(e.title)}</h2>`);
    if (!e.complete) H.push(`<p><b>Incomplete:</b> ${esc(String(e.incomplete))}.</p>`);
    if (e.claims.length) {
      H.push(
        '<h3>Claims</h3><table><tr><th>Claim</th><th>Paper</th><th>Check</th><th>Measured</th><th>Result</th></tr>',
      );
      for (const c of e.claims) {
        H.push(
          `<tr><td>${esc(c.id)}</td><td>${esc(c.paper)}</td><td>${esc(c.test)}</td><td>${esc(c.measured)}</td><td>${noted(c)}</td></tr>`,
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
          `<ul>${related.map((c) => `<li>${noted(c)} ${esc(c.paper)} <i>Measured:</i> ${esc(c.measured)}</li>`).join('')}</ul>`,
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
        H.push(`<li>${noted(c)} ${esc(c.paper)} <i>Measured:</i> ${esc(c.measured)}</li>`);
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
