import type { FigureDef } from '../../core/types.js';
import { splitAtWrap } from '../angles.js';
import { styled } from '../figure-style.js';
import type { E3Method } from './config.js';
import { e3MetricRowSchema } from './schema.js';
import { byInit, type E3Run } from './summary.js';

function angleRows(runs: readonly E3Run[], m: E3Method, maxStep = Number.POSITIVE_INFINITY) {
  return byInit(runs, m).flatMap((r) => {
    const series = r.metrics
      .map((row) => e3MetricRowSchema.parse(row))
      .filter((row) => row.step <= maxStep)
      .sort((a, b) => a.step - b.step);
    // angles are in [0°, 360°): break each trajectory where it crosses the wrap (drawn on the circle)
    return splitAtWrap(series).map((p) => ({
      init: `${r.config.initDeg}°`,
      initDeg: r.config.initDeg,
      step: p.step,
      angleDeg: p.angleDeg,
      segment: p.segment,
      point: p.point,
    }));
  });
}

/** The paper's y range of Figure 5: 240° to 280° (the true angle ± 20°). */
export const FIGURE_5_PAPER_RANGE: readonly [number, number] = [240, 280];

/**
 * Figure 5's y range: the paper's 240–280° when every estimate after the early steps (those
 * Figure 6 shows, `afterStep`) lies inside it; otherwise widened to cover them and the truth, to the
 * next 10° (within 0–360°), so the figure never shows an empty frame. `widened` says which.
 */
export function figure5Range(
  rows: ReadonlyArray<{ readonly step: number; readonly angleDeg: number; readonly point?: string }>,
  afterStep: number,
  truth: number | undefined,
): { domain: [number, number]; widened: boolean } {
  const measured = rows.filter((r) => r.point !== 'wrap' && Number.isFinite(r.angleDeg));
  const late = measured.filter((r) => r.step > afterStep);
  const used = late.length ? late : measured;
  const [p0, p1] = FIGURE_5_PAPER_RANGE;
  const values = [...used.map((r) => r.angleDeg), ...(truth === undefined ? [] : [truth])];
  const lo = Math.min(p0, ...values);
  const hi = Math.max(p1, ...values);
  if (lo >= p0 && hi <= p1) return { domain: [p0, p1], widened: false };
  return {
    domain: [Math.max(0, Math.floor(lo / 10) * 10), Math.min(360, Math.ceil(hi / 10) * 10)],
    widened: true,
  };
}

export function angleSpec(
  title: string,
  rows: readonly Record<string, unknown>[],
  yDomain: readonly [number, number],
  truth: number | undefined,
): Record<string, unknown> {
  const full = yDomain[0] === 0 && yDomain[1] === 360;
  return styled({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: 320,
    data: { values: full ? rows : visiblePieces(rows, yDomain) },
    layer: [
      {
        mark: { type: 'line', clip: true, strokeWidth: 1.2 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: {
            field: 'angleDeg',
            type: 'quantitative',
            title: 'angle (degrees)',
            scale: { domain: [...yDomain], nice: false },
            ...(full ? { axis: { values: [0, 90, 180, 270, 360] } } : {}),
          },
          color: { field: 'init', type: 'nominal', sort: { field: 'initDeg' }, title: 'init' },
          // one line per unbroken piece of a trajectory (broken where it crosses 0°/360°)
          detail: { field: 'segment', type: 'nominal' },
        },
      },
      ...(truth === undefined
        ? []
        : [
            { mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { y: { datum: truth } } },
          ]),
    ],
  });
}

/**
 * The rows of the line pieces (one init × segment each) that reach into `[lo, hi]`. A piece wholly
 * below or wholly above the axis range draws nothing once clipped, and resvg (the PNG renderer)
 * panics on such a clipped-away path (`Option::unwrap()` on `None`, aborting the process), so it
 * is left out of the drawn data; the figure's CSV keeps every row.
 */
export function visiblePieces(
  rows: readonly Record<string, unknown>[],
  [lo, hi]: readonly [number, number],
): Record<string, unknown>[] {
  const side = new Map<string, { below: boolean; above: boolean; inside: boolean }>();
  const key = (r: Record<string, unknown>) => `${String(r.init)}|${String(r.segment)}`;
  for (const r of rows) {
    const a = Number(r.angleDeg);
    const s = side.get(key(r)) ?? { below: false, above: false, inside: false };
    if (a < lo) s.below = true;
    else if (a > hi) s.above = true;
    else s.inside = true;
    side.set(key(r), s);
  }
  return rows.filter((r) => {
    const s = side.get(key(r));
    return s !== undefined && (s.inside || (s.below && s.above));
  });
}

/** Observed images as figure rows (ink pixels only; white background). */
export function observedGridRows(grid: string, perRow = 10): Record<string, number>[] {
  const px = Buffer.from(grid, 'base64');
  const n = Math.floor(px.length / 784);
  const rows: Record<string, number>[] = [];
  for (let k = 0; k < n; k++) {
    const r0 = Math.floor(k / perRow) * 29;
    const c0 = (k % perRow) * 29;
    for (let i = 0; i < 28; i++) {
      for (let j = 0; j < 28; j++) {
        const v = (px[k * 784 + i * 28 + j] as number) / 255;
        if (v > 0.03) rows.push({ image: k, col: c0 + j, row: r0 + i, value: Math.round(v * 1000) / 1000 });
      }
    }
  }
  return rows;
}

/** Vega-Lite heatmap of image pixels laid out by `observedGridRows` (white 0 → black 1). */
function imageGridSpec(
  title: string,
  rows: Record<string, number>[],
  width: number,
  height: number,
  cols: number,
  rowsExtent: number,
): FigureDef['spec'] {
  const axis = (field: string, extent: number, reverse: boolean) => ({
    field,
    type: 'quantitative',
    bin: { step: 1 },
    scale: reverse ? { domain: [0, extent], reverse: true } : { domain: [0, extent] },
    axis: null,
  });
  return styled({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width,
    height,
    data: { values: rows },
    mark: { type: 'rect' },
    encoding: {
      x: axis('col', cols, false),
      y: axis('row', rowsExtent, true),
      color: {
        field: 'value',
        type: 'quantitative',
        scale: { domain: [0, 1], range: ['white', 'black'] },
        legend: null,
      },
    },
  });
}

export function e3Figures(runs: readonly E3Run[]): FigureDef[] {
  const figs: FigureDef[] = [];
  const grid = runs.find((r) => r.summary.observedGrid)?.summary.observedGrid;
  if (grid) {
    const rows = observedGridRows(grid);
    const size = Math.ceil(Math.sqrt(Math.floor(Buffer.from(grid, 'base64').length / 784))) * 29;
    figs.push({
      name: 'figure-3',
      title: `Figure 3: observed images (rotated by ${runs[0]?.summary.trueAngleDeg}° counterclockwise, σ = ${runs[0]?.config.noiseSd})`,
      paperCaption: 'A 10×10 grid of the observed rotated MNIST images.',
      spec: imageGridSpec(
        `Observed images (true angle ${runs[0]?.summary.trueAngleDeg}°)`,
        rows,
        400,
        400,
        size,
        size,
      ),
      rows,
    });
  }
  const samples = runs.find((r) => r.summary.generatorSamples)?.summary.generatorSamples;
  if (samples) {
    const rows = observedGridRows(samples, 10);
    figs.push({
      name: 'figure-e3-generator-samples',
      title: `Generator samples (${runs[0]?.summary.generator ?? ''})`,
      paperCaption:
        'Not in the paper: 60 unrotated images (G(z) + 1)/2 of the generator used here, z ~ N(0, I).',
      spec: imageGridSpec('Generator samples', rows, 400, 240, 290, 174),
      rows,
    });
  }
  const truth = runs[0]?.summary.trueAngleDeg;
  const iwboRows = angleRows(runs, 'iwbo');
  figs.push({
    name: 'figure-4',
    title: `Figure 4: IWBO — angle vs step from ${byInit(runs, 'iwbo').length} initial angles`,
    paperCaption:
      'IWBO with θ as a model parameter: from the 12 initial angles the estimates end in different local optima.',
    spec: angleSpec(
      'IWBO: estimated angle (on the circle: lines break at 0°/360°)',
      iwboRows,
      [0, 360],
      truth,
    ),
    rows: iwboRows,
  });
  const steps = Math.max(0, ...byInit(runs, 'forwardKl').map((r) => r.config.steps));
  const early = Math.max(1, Math.round(steps * 0.2));
  const lpRows = angleRows(runs, 'forwardKl');
  const range = figure5Range(lpRows, early, truth);
  const [y0, y1] = range.domain;
  const nLp = byInit(runs, 'forwardKl').length;
  figs.push({
    name: 'figure-5',
    title: range.widened
      ? `Figure 5: L_P — angle (offset-corrected) vs step from ${nLp} offsets (y ${y0}–${y1}°, widened from the paper's 240–280° to show the estimates after step ${early})`
      : `Figure 5: L_P — angle (offset-corrected) vs step from ${nLp} offsets (y 240–280°, as in the paper)`,
    paperCaption:
      'L_P from all 12 initializations (target offsets) converges to the true angle 260° (y from 240 to 280).',
    spec: angleSpec(`L_P: estimated angle (y ${y0}–${y1}°)`, lpRows, range.domain, truth),
    rows: lpRows,
  });
  const earlyRows = angleRows(runs, 'forwardKl', early);
  figs.push({
    name: 'figure-6',
    title: `Figure 6: L_P — the first ${early} steps (20% of the run)`,
    paperCaption:
      "Figure 5's first 2,000 steps (2% of the paper's run): the estimates from every offset approach 260° early.",
    spec: angleSpec('L_P: early steps (on the circle: lines break at 0°/360°)', earlyRows, [0, 360], truth),
    rows: earlyRows,
  });
  return figs;
}
