import { renderVegaLite } from '@gcvi/plots';
import { describe, expect, it } from 'vitest';
import { shortestArc, splitAtWrap } from '../src/experiments/angles.js';
import { e1Plan } from '../src/experiments/e1/config.js';
import { e1Figures } from '../src/experiments/e1/figures.js';
import type { E1Run } from '../src/experiments/e1/summary.js';
import { e2Figures } from '../src/experiments/e2/figures.js';
import { e3Plan } from '../src/experiments/e3/config.js';
import {
  angleSpec as e3AngleSpec,
  e3Figures,
  figure5Range,
  visiblePieces,
} from '../src/experiments/e3/figures.js';
import type { E3Run } from '../src/experiments/e3/summary.js';
import { e4Plan } from '../src/experiments/e4/config.js';
import { e4FigureRows, e4Figures } from '../src/experiments/e4/figures.js';
import type { E4Run } from '../src/experiments/e4/summary.js';
import { type FIGURE_CONFIG, MIN_TICK_FONT_PX } from '../src/experiments/figure-style.js';
import type { MetricRow } from '../src/store/store.js';

type Pt = { step: number; angleDeg: number };

/** Consecutive pairs of points that one drawn line joins (same segment), as [from, to]. */
function drawnPairs<P extends Pt & { segment: number }>(points: readonly P[]): Array<[P, P]> {
  const out: Array<[P, P]> = [];
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.segment === points[i - 1]!.segment) out.push([points[i - 1]!, points[i]!]);
  }
  return out;
}

/** Whether the straight segment from a to b (in degrees, not on the circle) passes through `t`. */
const spans = (a: number, b: number, t: number) => Math.min(a, b) < t && t < Math.max(a, b);

describe('angles on the circle (splitAtWrap)', () => {
  it('shortestArc is the signed shortest turn', () => {
    expect(shortestArc(350, 10)).toBeCloseTo(20, 12);
    expect(shortestArc(10, 350)).toBeCloseTo(-20, 12);
    expect(shortestArc(100, 350)).toBeCloseTo(-110, 12);
    expect(shortestArc(250, 270)).toBeCloseTo(20, 12);
  });

  it('breaks a trajectory that crosses 0°/360° at the crossing, on both edges', () => {
    // 100° → 350° is a turn of −110° through 0°, not +250° through the truth at 260°
    const series: Pt[] = [
      { step: 0, angleDeg: 100 },
      { step: 10, angleDeg: 350 },
      { step: 20, angleDeg: 20 },
      { step: 30, angleDeg: 40 },
    ];
    const pts = splitAtWrap(series);
    expect(pts.filter((p) => p.point === 'measured').map((p) => [p.step, p.angleDeg])).toEqual(
      series.map((p) => [p.step, p.angleDeg]),
    );
    const wraps = pts.filter((p) => p.point === 'wrap');
    // 100 → 0 after 100/110 of the interval, then 350 → 360 after 10/30 of the next
    expect(wraps.map((p) => p.angleDeg)).toEqual([0, 360, 360, 0]);
    expect(wraps[0]!.step).toBeCloseTo((100 / 110) * 10, 12);
    expect(wraps[1]!.step).toBe(wraps[0]!.step);
    expect(wraps[2]!.step).toBeCloseTo(10 + (10 / 30) * 10, 12);
    expect(pts.map((p) => p.segment)).toEqual([0, 0, 1, 1, 1, 2, 2, 2]);
    // no drawn line goes the long way round: every joined pair is the shortest arc, and none
    // passes through the truth; joined naively the first pair would
    for (const [a, b] of drawnPairs(pts)) {
      expect(Math.abs(b.angleDeg - a.angleDeg)).toBeLessThanOrEqual(180);
      expect(spans(a.angleDeg, b.angleDeg, 260), `${a.angleDeg}→${b.angleDeg}`).toBe(false);
    }
    expect(spans(series[0]!.angleDeg, series[1]!.angleDeg, 260)).toBe(true);
  });

  it('leaves a trajectory that stays off the wrap as one segment', () => {
    const series = [250, 262, 271, 255, 259].map((angleDeg, step) => ({ step, angleDeg }));
    const pts = splitAtWrap(series);
    expect(pts).toEqual(series.map((p) => ({ ...p, segment: 0, point: 'measured' })));
  });
});

/** Every text size a spec sets (config and marks), and the tick label size of its config. */
function tickFont(spec: Record<string, unknown>): number {
  const config = spec.config as typeof FIGURE_CONFIG | undefined;
  return config?.axis.labelFontSize ?? 10;
}

describe('figure specs', () => {
  const e1Runs: E1Run[] = e1Plan('quick').map((config, i) => ({
    experiment: 'e1',
    id: `r${i}`,
    dir: '',
    config,
    summary: {
      width: config.width,
      steps: config.steps,
      objective: 'forward-kl',
      exactNll: 0.7483,
      finalTestNll: { full: 1.2 + i * 0.01, linear: 1.3 },
      skippedSteps: { full: 0, linear: 0 },
      jacobianDistance: 0.1,
      ntkDistance: 0.1,
      ntkEig1: 0.1,
      ntkMinEigenvalue: 0,
      ntkMinEigenvalueFinal: 0,
      infiniteNtk: { min: 1e-6, max: 4, resolution: 1e-14 },
    },
    metrics: [0, 300, 600].flatMap((step): MetricRow[] => [
      { kind: 'testNll', model: 'full', step, nll: 1.8 - step / 1000, exactNll: 0.7483 },
      { kind: 'testNll', model: 'linear', step, nll: 1.8 - step / 1100, exactNll: 0.7483 },
      { kind: 'ntk', model: 'full', step, jacobianDistance: 0.1, ntkDistance: 0.1, eig1: 0.1, eig2: 0.05 },
    ]),
  }));

  it("Figure 1's title states exactly the y range of its axis (no nice rounding)", () => {
    const fig = e1Figures(e1Runs, 0.7483).find((f) => f.name === 'figure-1')!;
    const spec = fig.spec as {
      title: string;
      spec: { layer: Array<{ encoding: { y: { scale?: { domain: number[]; nice: boolean } } } }> };
    };
    const scale = spec.spec.layer[0]!.encoding.y.scale!;
    expect(scale.nice).toBe(false);
    const m = /y axis ([\d.]+) to ([\d.]+)/.exec(spec.title);
    expect(m, spec.title).not.toBeNull();
    expect([Number(m![1]), Number(m![2])]).toEqual(scale.domain);
    // the range holds the exact NLL and every final value
    expect(scale.domain[0]!).toBeLessThan(0.7483);
    expect(scale.domain[1]!).toBeGreaterThan(1.3);
  });

  it('every figure of E1–E4 sets tick labels ≥ 10 px (shown at natural size in report.html)', () => {
    const e3Runs = syntheticE3();
    const e4Runs = syntheticE4([0, 100, 350, 20]);
    const figs = [...e1Figures(e1Runs, 0.7483), ...e2Figures([]), ...e3Figures(e3Runs), ...e4Figures(e4Runs)];
    expect(figs.length).toBeGreaterThanOrEqual(9);
    for (const f of figs) expect(tickFont(f.spec), f.name).toBeGreaterThanOrEqual(MIN_TICK_FONT_PX);
  });

  it("Figure 7's angle panel draws the E4 mode on the circle (broken at the wrap)", () => {
    // a synthetic L_P trajectory 100° → 350° → 20°: two crossings of 0°/360°
    const runs = syntheticE4([100, 350, 20, 40]);
    const rows = e4FigureRows(runs).filter((r) => r.metric === 'angleDeg' && r.method === 'L_P');
    const pts = rows.map((r) => ({
      step: r.step as number,
      angleDeg: r.value as number,
      segment: r.segment as number,
    }));
    expect(new Set(pts.map((p) => p.segment)).size).toBe(3);
    for (const [a, b] of drawnPairs(pts)) {
      expect(spans(a.angleDeg, b.angleDeg, 260), `${a.angleDeg}→${b.angleDeg}`).toBe(false);
    }
    // the angle panel draws one line per segment on a fixed 0–360° axis
    const spec = e4Figures(runs)[0]!.spec as {
      vconcat: Array<{
        hconcat: Array<{
          layer: Array<{ encoding?: Record<string, { field?: string; scale?: { domain?: number[] } }> }>;
        }>;
      }>;
    };
    const angle = spec.vconcat[1]!.hconcat[1]!.layer[0]!.encoding!;
    expect(angle.detail?.field).toBe('segment');
    expect(angle.y?.scale?.domain).toEqual([0, 360]);
  });

  it("Figure 5 keeps the paper's 240–280° when the estimates lie in it, and widens to show them otherwise", () => {
    const inRange = [0, 10, 20, 30].map((step, i) => ({ step, angleDeg: [200, 255, 262, 258][i]! }));
    expect(figure5Range(inRange, 5, 260)).toEqual({ domain: [240, 280], widened: false });
    const outside = [0, 10, 20, 30].map((step, i) => ({ step, angleDeg: [200, 290.4, 297.7, 129.5][i]! }));
    const r = figure5Range(outside, 5, 260);
    expect(r).toEqual({ domain: [120, 300], widened: true });
    for (const p of outside.slice(1)) {
      expect(p.angleDeg).toBeGreaterThanOrEqual(r.domain[0]);
      expect(p.angleDeg).toBeLessThanOrEqual(r.domain[1]);
    }
    // and the figure's axis and title follow the data
    const figs = e3Figures(syntheticE3());
    const f5 = figs.find((f) => f.name === 'figure-5')!;
    expect(f5.title).toMatch(/widened from the paper's 240–280°/);
  });
});

function syntheticE4(lpAngles: readonly number[]): E4Run[] {
  return e4Plan('quick').map((config, i) => ({
    experiment: 'e4',
    id: `e4-${i}`,
    dir: '',
    config,
    summary: {
      method: config.method,
      final: { forwardKl: 1, reverseKl: 1, elbo: -1, nll: 1, angleDeg: lpAngles.at(-1)! },
      logEvidence: 0,
      posteriorModeDeg: 260,
      posteriorSd: 0.1,
      trueAngleDeg: 260,
      steps: config.steps,
      skippedSteps: 0,
      generator: 'trained',
    },
    metrics: lpAngles.map((a, k) => ({
      kind: 'metrics',
      step: k * 4,
      forwardKl: 1,
      reverseKl: 1,
      elbo: -1,
      nll: 1,
      mu: 0,
      angleDeg: config.method === 'forwardKl' ? a : 100,
    })),
  }));
}

function syntheticE3(): E3Run[] {
  return e3Plan('quick').map((config, i) => ({
    experiment: 'e3',
    id: `e3-${i}`,
    dir: '',
    config,
    summary: {
      method: config.method,
      initDeg: config.initDeg,
      finalAngleDeg: 300,
      trueAngleDeg: 260,
      steps: config.steps,
      skippedSteps: 0,
      generator: 'trained',
    },
    metrics: [0, 3, 6, 9, 12].map((step) => ({
      kind: 'angle',
      step,
      angleDeg: (config.initDeg + 30 * step) % 360,
    })),
  }));
}

describe('Figure 5 pieces outside its axis range', () => {
  // A default-profile run had an offset's early piece (0°–80°, between wraps) wholly below the
  // 210–320° axis: resvg panicked on the clipped-away path and aborted the analysis.
  const rows = [
    { init: '0°', initDeg: 0, step: 0, angleDeg: 270, segment: 0 },
    { init: '0°', initDeg: 0, step: 25, angleDeg: 360, segment: 0 },
    { init: '0°', initDeg: 0, step: 25, angleDeg: 0, segment: 1 },
    { init: '0°', initDeg: 0, step: 50, angleDeg: 80, segment: 1 },
    { init: '0°', initDeg: 0, step: 75, angleDeg: 25, segment: 1 },
    { init: '30°', initDeg: 30, step: 0, angleDeg: 200, segment: 0 },
    { init: '30°', initDeg: 30, step: 25, angleDeg: 330, segment: 0 },
    { init: '30°', initDeg: 30, step: 50, angleDeg: 262, segment: 0 },
    // the run's piece that crashed the renderer: 5.6° at step 0 down to the wrap at step 1.07
    { init: '270°', initDeg: 270, step: 0, angleDeg: 5.590780233202889, segment: 0 },
    { init: '270°', initDeg: 270, step: 1.0675811621073228, angleDeg: 0, segment: 0 },
    { init: '270°', initDeg: 270, step: 1.0675811621073228, angleDeg: 360, segment: 1 },
    { init: '270°', initDeg: 270, step: 25, angleDeg: 234.66911283118728, segment: 1 },
    { init: '270°', initDeg: 270, step: 50, angleDeg: 190.87159440408024, segment: 1 },
  ];
  it('drops only the pieces that lie wholly on one side of the range; the rows keep everything', () => {
    const kept = visiblePieces(rows, [210, 320]);
    expect(kept.map((r) => `${r.init}/${r.segment}/${r.step}`)).toEqual([
      '0°/0/0',
      '0°/0/25',
      '30°/0/0',
      '30°/0/25',
      '30°/0/50',
      '270°/1/1.0675811621073228',
      '270°/1/25',
      '270°/1/50',
    ]);
    // a piece from below to above the range crosses it and is drawn, though no point is inside
    expect(visiblePieces(rows.slice(5, 7), [210, 320])).toHaveLength(2);
  });
  it('renders to SVG and PNG (resvg) with such a piece in the data', async () => {
    const fig = await renderVegaLite(
      JSON.parse(JSON.stringify(e3AngleSpec('Figure 5 test', rows, [210, 320], 260))) as Record<
        string,
        unknown
      >,
    );
    expect(fig.png.length).toBeGreaterThan(1000);
  }, 60_000);
});
