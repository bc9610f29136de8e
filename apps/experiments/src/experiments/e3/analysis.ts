import type { CheckedClaim, FigureDef, SummaryTree } from '../../core/types.js';
import type { LoadedRun } from '../../store/store.js';
import type { E3Config, E3Method } from './config.js';
import type { E3RunSummary } from './run.js';
import { e3MetricRowSchema } from './schema.js';

export type E3Run = LoadedRun<E3Config, E3RunSummary>;

/** Signed difference a − b of two angles in degrees, in (−180, 180]. */
export function angleDiffDeg(a: number, b: number): number {
  const d = (((a - b) % 360) + 360) % 360;
  return d > 180 ? d - 360 : d;
}

const byInit = (runs: readonly E3Run[], m: E3Method) =>
  runs.filter((r) => r.config.method === m).sort((a, b) => a.config.initDeg - b.config.initDeg);

/** `summary.e3`: `finalAngleDeg.<forwardKl|iwbo>.<init>`, `trueAngleDeg`, and timings. */
export function summarizeE3(runs: readonly E3Run[]): SummaryTree {
  if (runs.length === 0) throw new Error('e3: no finished runs to summarize');
  const per = (m: E3Method, f: (r: E3Run) => number): SummaryTree =>
    Object.fromEntries(byInit(runs, m).map((r) => [String(r.config.initDeg), f(r)]));
  const lp = byInit(runs, 'forwardKl');
  const maxErr = lp.length
    ? Math.max(...lp.map((r) => Math.abs(angleDiffDeg(r.summary.finalAngleDeg, 260))))
    : Number.NaN;
  return {
    trueAngleDeg: 260,
    generator: runs[0]!.summary.generator,
    finalAngleDeg: {
      forwardKl: per('forwardKl', (r) => r.summary.finalAngleDeg),
      iwbo: per('iwbo', (r) => r.summary.finalAngleDeg),
    },
    forwardKlMaxAbsErrorDeg: maxErr,
    iwboDistinctEndpoints: distinctEndpoints(byInit(runs, 'iwbo').map((r) => r.summary.finalAngleDeg)),
  };
}

/** Number of clusters of end angles when angles within 10° (on the circle) are chained together. */
export function distinctEndpoints(anglesDeg: readonly number[], tolDeg = 10): number {
  const a = [...anglesDeg].map((v) => ((v % 360) + 360) % 360).sort((x, y) => x - y);
  if (a.length === 0) return 0;
  let gaps = 0;
  for (let i = 0; i < a.length; i++) {
    const next = i + 1 < a.length ? (a[i + 1] as number) : (a[0] as number) + 360;
    if (next - (a[i] as number) > tolDeg) gaps++;
  }
  return Math.max(1, gaps);
}

function angleRows(runs: readonly E3Run[], m: E3Method, maxStep = Number.POSITIVE_INFINITY) {
  return byInit(runs, m).flatMap((r) =>
    r.metrics
      .map((row) => e3MetricRowSchema.parse(row))
      .filter((row) => row.step <= maxStep)
      .map((row) => ({
        init: `${r.config.initDeg}°`,
        initDeg: r.config.initDeg,
        step: row.step,
        angleDeg: row.angleDeg,
      })),
  );
}

function angleSpec(
  title: string,
  rows: readonly Record<string, unknown>[],
  yDomain: [number, number],
): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 280,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'line', clip: true, strokeWidth: 1.2 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: {
            field: 'angleDeg',
            type: 'quantitative',
            title: 'angle (degrees)',
            scale: { domain: yDomain },
          },
          color: { field: 'init', type: 'nominal', sort: { field: 'initDeg' }, title: 'init' },
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { y: { datum: 260 } } },
    ],
  };
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
  return {
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
  };
}

export function e3Figures(runs: readonly E3Run[]): FigureDef[] {
  const figs: FigureDef[] = [];
  const grid = runs.find((r) => r.summary.observedGrid)?.summary.observedGrid;
  if (grid) {
    const rows = observedGridRows(grid);
    const size = Math.ceil(Math.sqrt(Math.floor(Buffer.from(grid, 'base64').length / 784))) * 29;
    figs.push({
      name: 'figure-3',
      title: 'Figure 3: observed images (rotated by 260° counterclockwise, σ = 0.01)',
      paperCaption: 'A 10×10 grid of the observed rotated MNIST images.',
      spec: imageGridSpec('Observed images (true angle 260°)', rows, 400, 400, size, size),
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
  const iwboRows = angleRows(runs, 'iwbo');
  figs.push({
    name: 'figure-4',
    title: 'Figure 4: IWBO — angle vs step from 12 initial angles',
    paperCaption:
      'IWBO with θ as a model parameter: from the 12 initial angles the estimates end in different local optima.',
    spec: angleSpec('IWBO: estimated angle', iwboRows, [0, 360]),
    rows: iwboRows,
  });
  const lpRows = angleRows(runs, 'forwardKl');
  figs.push({
    name: 'figure-5',
    title: 'Figure 5: L_P — angle (offset-corrected) vs step from 12 offsets',
    paperCaption:
      'L_P from all 12 initializations (target offsets) converges to the true angle 260° (y from 240 to 280).',
    spec: angleSpec('L_P: estimated angle', lpRows, [240, 280]),
    rows: lpRows,
  });
  const steps = Math.max(0, ...byInit(runs, 'forwardKl').map((r) => r.config.steps));
  const early = Math.max(1, Math.round(steps * 0.2));
  const earlyRows = angleRows(runs, 'forwardKl', early);
  figs.push({
    name: 'figure-6',
    title: `Figure 6: L_P — the first ${early} steps (20% of the run)`,
    paperCaption:
      "Figure 5's first 2,000 steps (2% of the paper's run): the estimates from every offset approach 260° early.",
    spec: angleSpec('L_P: early steps', earlyRows, [0, 360]),
    rows: earlyRows,
  });
  return figs;
}

export function e3Claims(runs: readonly E3Run[]): CheckedClaim[] {
  const lp = byInit(runs, 'forwardKl');
  const iw = byInit(runs, 'iwbo');
  const lpErr = lp.map((r) => angleDiffDeg(r.summary.finalAngleDeg, 260));
  const maxErr = Math.max(...lpErr.map(Math.abs));
  const iwEnd = iw.map((r) => r.summary.finalAngleDeg);
  const clusters = distinctEndpoints(iwEnd);
  const iwNear = iwEnd.filter((a) => Math.abs(angleDiffDeg(a, 260)) <= 10).length;
  const fmt = (v: number) => v.toFixed(1);
  return [
    {
      id: 'e3-lp-all-offsets',
      paper: 'L_P from all 12 initializations ends at the true angle 260° (Figures 5, 6).',
      test: 'every L_P run ends within ±10° of 260°',
      measured: `L_P end angles ${lp.map((r) => `${r.config.initDeg}°→${fmt(r.summary.finalAngleDeg)}°`).join(', ')}; max |error| ${fmt(maxErr)}°`,
      values: { maxAbsErrorDeg: maxErr, runs: lp.length },
      status: lp.length === 0 ? 'n/a' : maxErr <= 10 ? 'pass' : 'fail',
      figures: ['figure-5', 'figure-6'],
    },
    {
      id: 'e3-iwbo-local-optima',
      paper:
        'IWBO with θ as a model parameter ends in different local optima depending on its initial angle (Figure 4).',
      test: 'IWBO end angles fall into ≥ 3 clusters (10° apart) and not all runs end within ±10° of 260°',
      measured: `IWBO end angles ${iw.map((r) => `${r.config.initDeg}°→${fmt(r.summary.finalAngleDeg)}°`).join(', ')}; ${clusters} clusters; ${iwNear}/${iw.length} within ±10° of 260°`,
      values: { clusters, nearTruth: iwNear, runs: iw.length },
      status: iw.length === 0 ? 'n/a' : clusters >= 3 && iwNear < iw.length ? 'pass' : 'fail',
      figures: ['figure-4'],
    },
  ];
}
