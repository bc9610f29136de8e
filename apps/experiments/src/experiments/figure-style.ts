/**
 * Shared look of the experiments' figures. report.html shows every figure at its natural size
 * (1 SVG px = 1 CSS px; wider than the page, it scrolls instead of shrinking), so these sizes are
 * the sizes a reader sees: tick labels 11 px, axis and legend titles 12 px.
 *
 * Width budget: report.html's text column is `REPORT_CONTENT_WIDTH` px wide; a wide figure (facets,
 * panels side by side) is sized to fill most of it (≥ `WIDE_FIGURE_MIN_WIDTH`) without overflowing.
 */

/** Width (CSS px) of report.html's content column (body max-width minus its padding). */
export const REPORT_CONTENT_WIDTH = 1148;
/** A wide figure is at least this wide in report.html (checked by the screenshot test). */
export const WIDE_FIGURE_MIN_WIDTH = 900;
/** Smallest font size (px) of tick labels as shown in report.html (checked by the screenshot test). */
export const MIN_TICK_FONT_PX = 10;

/** Vega-Lite `config` of every figure. */
export const FIGURE_CONFIG = {
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

/** The spec with the shared config (a spec's own `config` entries win). */
export function styled<S extends Record<string, unknown>>(spec: S): S & { config: Record<string, unknown> } {
  const own = (spec.config ?? {}) as Record<string, Record<string, unknown>>;
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(FIGURE_CONFIG)) config[k] = { ...v, ...(own[k] ?? {}) };
  for (const [k, v] of Object.entries(own)) if (!(k in config)) config[k] = v;
  return { ...spec, config };
}
