import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { FigureDef } from '../core/types.js';
import { writeFileAtomic, writeJsonAtomic } from '../store/atomic.js';

export interface RenderedFigure {
  readonly svg: string;
  readonly png: Uint8Array;
}

/**
 * Vega-Lite → Vega (vega-lite `compile`) → SVG (a headless vega View, renderer 'none') → PNG
 * (resvg, system fonts, 2× scale). No browser or canvas involved.
 */
export async function renderVegaLite(spec: Record<string, unknown>, scale = 2): Promise<RenderedFigure> {
  // vega tags data objects with symbols; keep the caller's spec and rows untouched
  const vgSpec = compile(JSON.parse(JSON.stringify(spec)) as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      background: 'white',
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows → CSV with the union of their keys as header (first-seen order). */
export function toCsv(rows: ReadonlyArray<Record<string, unknown>>): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const lines = [cols.join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

export interface WrittenFigure {
  readonly name: string;
  readonly svg: string;
  readonly png: string;
  readonly csv: string;
  readonly spec: string;
}

/** Render a figure and write `<name>.svg`, `<name>.png`, `<name>.csv` (its data) and `<name>.vl.json` (its spec). */
export async function writeFigure(dir: string, fig: FigureDef): Promise<WrittenFigure> {
  const { svg, png } = await renderVegaLite(fig.spec);
  const files = {
    name: fig.name,
    svg: join(dir, `${fig.name}.svg`),
    png: join(dir, `${fig.name}.png`),
    csv: join(dir, `${fig.name}.csv`),
    spec: join(dir, `${fig.name}.vl.json`),
  };
  writeFileAtomic(files.svg, svg);
  writeFileAtomic(files.png, png);
  writeFileAtomic(files.csv, toCsv(fig.rows));
  writeJsonAtomic(files.spec, fig.spec);
  return files;
}
