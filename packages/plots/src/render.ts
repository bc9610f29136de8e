import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';
import writeFileAtomic from 'write-file-atomic';

export interface RenderedFigure {
  readonly svg: string;
  readonly png: Uint8Array;
}

/**
 * Vega-Lite → Vega (vega-lite `compile`) → SVG (a headless vega View, renderer 'none') → PNG
 * (resvg, system fonts, `scale`× zoom, white background). No browser or canvas involved.
 */
export async function renderVegaLite(spec: Record<string, unknown>, scale = 2): Promise<RenderedFigure> {
  // Imported here, not at the top: vega's module graph has a top-level await, which would make
  // every package importing @gcvi/plots unloadable with require() (ERR_REQUIRE_ASYNC_MODULE).
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
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

/** A figure to write: a file stem, a Vega-Lite spec with inline data, and the rows behind it. */
export interface FigureDef {
  /** File stem, e.g. `figure-1` → `figure-1.{svg,png,csv,vl.json}`. */
  readonly name: string;
  /** Vega-Lite spec; its data must be inline (`data.values`). */
  readonly spec: Record<string, unknown>;
  /** Data behind the figure (saved as CSV). */
  readonly rows: ReadonlyArray<Record<string, unknown>>;
  readonly title?: string;
  readonly paperCaption?: string;
}

export interface WrittenFigure {
  readonly name: string;
  readonly svg: string;
  readonly png: string;
  readonly csv: string;
  readonly spec: string;
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic.sync(file, typeof data === 'string' ? data : Buffer.from(data));
}

/**
 * Render a figure and write `<name>.svg`, `<name>.png`, `<name>.csv` (its data) and
 * `<name>.vl.json` (its spec) into `dir`, each atomically (temporary file, fsync, rename).
 */
export async function writeFigure(dir: string, fig: FigureDef): Promise<WrittenFigure> {
  const { svg, png } = await renderVegaLite(fig.spec);
  const files = {
    name: fig.name,
    svg: join(dir, `${fig.name}.svg`),
    png: join(dir, `${fig.name}.png`),
    csv: join(dir, `${fig.name}.csv`),
    spec: join(dir, `${fig.name}.vl.json`),
  };
  writeAtomic(files.svg, svg);
  writeAtomic(files.png, png);
  writeAtomic(files.csv, toCsv(fig.rows));
  writeAtomic(files.spec, `${JSON.stringify(fig.spec, null, 2)}\n`);
  return files;
}
