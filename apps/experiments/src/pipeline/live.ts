/**
 * Live figures for report.html: each figure is a Vega-Lite view drawn in the reader's browser by
 * vega-embed from its spec (data inline), over the static SVG, which stays as the fallback
 * (no JavaScript, a failed embed, a spec the browser cannot draw).
 *
 * The report must open from disk (file://) without a server, so nothing is fetched: the specs are
 * inlined in the page, and the browser (UMD) builds of vega, vega-lite and vega-embed are copied
 * next to report.html by `liveAssets` and loaded as classic scripts (module scripts and fetch are
 * blocked on file:// pages; classic scripts are not).
 *
 * Use, in the report:
 *
 *     liveAssets(reportDir);                                 // once: <reportDir>/live/*.min.js
 *     html.push(liveHeadHtml());                             // in <head>
 *     html.push(liveFigureHtml({ name, spec, svg: 'figures/name.svg', alt: title }));
 *     html.push(liveBootHtml());                             // once, before </body>
 *
 * Each figure element carries `data-live`: `pending`, then `ok` (the live view replaced the image)
 * or `failed` (the image stays; `data-error` says why), so tests and readers can tell.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Folder, relative to report.html, that holds the browser builds. */
export const LIVE_ASSET_DIR = 'live';

/** The browser builds the live report loads, in load order (vega-embed needs the other two). */
export const LIVE_LIBRARIES = [
  { pkg: 'vega', file: 'build/vega.min.js' },
  { pkg: 'vega-lite', file: 'build/vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'build/vega-embed.min.js' },
] as const;

export interface LiveFigure {
  /** Figure name, e.g. `figure-1`; becomes the element id `live-<name>`. */
  readonly name: string;
  /** The Vega-Lite spec, with its data inline (`data.values`); no `url` data. */
  readonly spec: Readonly<Record<string, unknown>>;
  /** URL of the static SVG relative to report.html, e.g. `figures/figure-1.svg`. */
  readonly svg: string;
  /** Text alternative of the figure (its title). */
  readonly alt?: string;
}

export interface CopiedAsset {
  readonly pkg: string;
  readonly version: string;
  /** Path relative to the report folder (what the page's script tag loads). */
  readonly href: string;
  /** Absolute path of the copy. */
  readonly path: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a `<script>` element: no `</script>`, `<!--`, or line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Path (like `layer[1].data.url`) of the first url-loaded data source in a spec, if any. */
function findDataUrl(node: unknown, path: string): string | undefined {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const hit = findDataUrl(node[i], `${path}[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  const data = o.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object' && 'url' in data) return `${path ? `${path}.` : ''}data.url`;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'data') continue;
    const hit = findDataUrl(v, path ? `${path}.${k}` : k);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * One figure: a `<figure>` holding the static SVG (shown until the live view is drawn, and kept if
 * it cannot be), an empty container for the live view, and the spec as inline JSON.
 */
export function liveFigureHtml(fig: LiveFigure): string {
  if (typeof fig.name !== 'string' || !NAME.test(fig.name)) {
    throw new Error(
      `live figure: name must match ${NAME} (it becomes an element id), got '${String(fig.name)}'`,
    );
  }
  if (fig.spec === null || typeof fig.spec !== 'object' || Array.isArray(fig.spec)) {
    throw new Error(`live figure '${fig.name}': spec must be a Vega-Lite spec object`);
  }
  const url = findDataUrl(fig.spec, '');
  if (url) {
    throw new Error(
      `live figure '${fig.name}': spec loads data from a URL (${url}); report.html opens from disk, so data must be inline (data.values)`,
    );
  }
  if (typeof fig.svg !== 'string' || fig.svg === '') {
    throw new Error(`live figure '${fig.name}': svg must be the relative URL of the static SVG`);
  }
  const alt = escapeHtml(fig.alt ?? fig.name);
  return [
    `<figure class="gcvi-live" id="live-${fig.name}" data-live="pending">`,
    `<div class="gcvi-live-view" role="img" aria-label="${alt}"></div>`,
    `<img class="gcvi-live-fallback" src="${escapeHtml(fig.svg)}" alt="${alt}">`,
    `<script type="application/json" class="gcvi-live-spec">${scriptJson(fig.spec)}</script>`,
    '</figure>',
  ].join('');
}

/** `<script>` tags for the copied builds and the few style rules of live figures (for `<head>`). */
export function liveHeadHtml(assetDir: string = LIVE_ASSET_DIR): string {
  const scripts = LIVE_LIBRARIES.map(
    (l) => `<script src="${escapeHtml(`${assetDir}/${l.file.split('/').pop()}`)}"></script>`,
  );
  return [
    ...scripts,
    '<style>.gcvi-live{margin:0}.gcvi-live[data-live="ok"] .gcvi-live-fallback{display:none}',
    '.gcvi-live[data-live="ok"] .gcvi-live-view{display:inline-block}.gcvi-live-view{display:none;max-width:100%;overflow-x:auto}</style>',
  ].join('\n');
}

/**
 * The inline script that draws every live figure once the page has loaded. Without vega-embed
 * (scripts blocked or missing) every figure is marked failed and keeps its SVG.
 */
export function liveBootHtml(): string {
  const boot = `(function () {
  function run() {
    var figs = document.querySelectorAll('figure.gcvi-live');
    for (var i = 0; i < figs.length; i++) (function (fig) {
      var fail = function (why) {
        fig.setAttribute('data-live', 'failed');
        fig.setAttribute('data-error', String(why));
      };
      if (typeof window.vegaEmbed !== 'function') return fail('vega-embed did not load');
      var spec;
      try { spec = JSON.parse(fig.querySelector('script.gcvi-live-spec').textContent); }
      catch (e) { return fail('bad spec JSON: ' + (e && e.message)); }
      var view = fig.querySelector('.gcvi-live-view');
      window.vegaEmbed(view, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
        .then(function () { fig.setAttribute('data-live', 'ok'); })
        .catch(function (e) { view.textContent = ''; fail(e && e.message ? e.message : e); });
    })(figs[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
  else run();
})();`;
  return `<script>\n${boot}\n</script>`;
}

/** The root folder of an installed package (the nearest package.json named `pkg` above its entry). */
function packageRoot(pkg: string): { root: string; version: string } {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch (e) {
    throw new Error(
      `live report: cannot find the package '${pkg}' from @gcvi/experiments (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (meta.name === pkg) return { root: dir, version: meta.version ?? 'unknown' };
  }
  throw new Error(`live report: no package.json named '${pkg}' above ${entry}`);
}

/**
 * Copy the browser builds of vega, vega-lite and vega-embed (and their licence files) from
 * node_modules into `<outDir>/live/`, each atomically (copy to a temporary name, rename).
 * Returns what was copied; the script tags of `liveHeadHtml` load exactly these files.
 */
export function liveAssets(outDir: string, assetDir: string = LIVE_ASSET_DIR): CopiedAsset[] {
  const dir = join(outDir, assetDir);
  mkdirSync(dir, { recursive: true });
  const out: CopiedAsset[] = [];
  const copy = (from: string, name: string) => {
    const to = join(dir, name);
    const tmp = `${to}.${process.pid}.tmp`;
    copyFileSync(from, tmp);
    renameSync(tmp, to);
    return to;
  };
  for (const lib of LIVE_LIBRARIES) {
    const { root, version } = packageRoot(lib.pkg);
    const src = join(root, lib.file);
    if (!existsSync(src)) {
      throw new Error(`live report: ${lib.pkg}@${version} has no browser build at ${src}`);
    }
    const name = lib.file.split('/').pop()!;
    const path = copy(src, name);
    const licence = ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].map((f) => join(root, f)).find(existsSync);
    if (licence) copy(licence, `${lib.pkg}.LICENSE.txt`);
    out.push({ pkg: lib.pkg, version, href: `${assetDir}/${name}`, path });
  }
  return out;
}
