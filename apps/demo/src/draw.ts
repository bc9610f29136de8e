/**
 * The page's two pictures, drawn on canvases: the test NLL against step (full network, linearized
 * twin, exact posterior), and the densities on the circle for the observation the reader drags.
 */
export const COLORS = { full: '#1f77b4', linear: '#ff7f0e', exact: '#d62728', axis: '#555', grid: '#e5e5e5' };

/** Size the canvas's backing store to its CSS size × devicePixelRatio; returns the CSS size. */
function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** About `n` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= n + 1) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

export interface NllSeries {
  readonly step: number[];
  readonly full: number[];
  readonly linear: number[];
}

export interface NllChartOptions {
  readonly exactNll: number;
  /** Right end of the step axis (at least the last step). */
  readonly stepMax: number;
  /** Zoom on the exact NLL (y from exact − 0.02 to exact + 0.1) instead of the whole fall. */
  readonly zoom: boolean;
}

export function drawNllChart(canvas: HTMLCanvasElement, s: NllSeries, o: NllChartOptions): void {
  const { ctx, w, h } = prepare(canvas);
  const m = { l: 52, r: 12, t: 12, b: 36 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const xMax = Math.max(o.stepMax, s.step[s.step.length - 1] ?? 0, 10);
  const all = [...s.full, ...s.linear].filter(Number.isFinite);
  const yLo = o.zoom ? o.exactNll - 0.02 : Math.min(o.exactNll, ...all) - 0.05;
  const yHi = o.zoom ? o.exactNll + 0.1 : Math.max(o.exactNll + 0.2, ...all) + 0.05;
  const X = (v: number) => m.l + (v / xMax) * pw;
  const Y = (v: number) => m.t + (1 - (v - yLo) / (yHi - yLo)) * ph;

  ctx.font = '12px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = COLORS.grid;
  ctx.fillStyle = COLORS.axis;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of ticks(yLo, yHi, 6)) {
    ctx.beginPath();
    ctx.moveTo(m.l, Y(v));
    ctx.lineTo(m.l + pw, Y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), m.l - 6, Y(v));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of ticks(0, xMax, 6)) {
    ctx.beginPath();
    ctx.moveTo(X(v), m.t);
    ctx.lineTo(X(v), m.t + ph);
    ctx.stroke();
    ctx.fillText(String(v), X(v), m.t + ph + 6);
  }
  ctx.fillText('step', m.l + pw / 2, m.t + ph + 21);
  ctx.save();
  ctx.translate(12, m.t + ph / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText('test NLL', 0, 0);
  ctx.restore();
  ctx.strokeStyle = COLORS.axis;
  ctx.strokeRect(m.l, m.t, pw, ph);

  ctx.save();
  ctx.beginPath();
  ctx.rect(m.l, m.t, pw, ph);
  ctx.clip();
  ctx.lineWidth = 2;
  ctx.strokeStyle = COLORS.exact;
  ctx.beginPath();
  ctx.moveTo(m.l, Y(o.exactNll));
  ctx.lineTo(m.l + pw, Y(o.exactNll));
  ctx.stroke();
  const line = (ys: number[], color: string, dash: number[]) => {
    ctx.strokeStyle = color;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ys.forEach((y, i) => {
      const px = X(s.step[i] ?? 0);
      const py = Y(Number.isFinite(y) ? y : yHi);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
    ctx.setLineDash([]);
  };
  line(s.full, COLORS.full, []);
  line(s.linear, COLORS.linear, [6, 4]);
  ctx.restore();
}

export interface CircleCurves {
  readonly theta: readonly number[];
  readonly full: readonly number[];
  readonly linear: readonly number[];
  readonly exact: readonly number[];
}

/** Geometry shared by drawing and pointer handling. */
export function circleGeometry(canvas: HTMLCanvasElement): { cx: number; cy: number; r: number } {
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  return { cx: w / 2, cy: h / 2, r: 0.3 * Math.min(w, h) };
}

/** The angle (radians, counterclockwise from +x) of a pointer position relative to the centre. */
export function angleAt(canvas: HTMLCanvasElement, clientX: number, clientY: number): number {
  const rect = canvas.getBoundingClientRect();
  const { cx, cy } = circleGeometry(canvas);
  return Math.atan2(-(clientY - rect.top - cy), clientX - rect.left - cx);
}

/**
 * Densities on the circle: at angle θ the curve is drawn at radius r + k·p(θ) (one fixed k, so
 * the curves can be compared over time), with the observation x as a handle on the unit circle.
 */
export function drawCircle(canvas: HTMLCanvasElement, phi: number, curves: CircleCurves | undefined): void {
  const { ctx } = prepare(canvas);
  const { cx, cy, r } = circleGeometry(canvas);
  const k = (0.55 * r) / 0.9;
  const P = (theta: number, rad: number): [number, number] => [
    cx + rad * Math.cos(theta),
    cy - rad * Math.sin(theta),
  ];
  ctx.lineWidth = 1;
  ctx.strokeStyle = COLORS.axis;
  ctx.beginPath();
  ctx.arc(cx, cy, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = COLORS.axis;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (const deg of [0, 90, 180, 270]) {
    const [x, y] = P((deg * Math.PI) / 180, r - 14);
    ctx.fillText(`${deg}°`, x, y);
  }
  if (curves) {
    const curve = (p: readonly number[], color: string, dash: number[], width: number) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.setLineDash(dash);
      ctx.beginPath();
      curves.theta.forEach((t, i) => {
        const [x, y] = P(t, r + k * Math.min(p[i] ?? 0, 2.5));
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([]);
    };
    curve(curves.exact, COLORS.exact, [], 2.5);
    curve(curves.full, COLORS.full, [], 2);
    curve(curves.linear, COLORS.linear, [6, 4], 2);
  }
  const [hx, hy] = P(phi, r);
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 1;
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  ctx.moveTo(cx, cy);
  ctx.lineTo(hx, hy);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = '#000';
  ctx.beginPath();
  ctx.arc(hx, hy, 7, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = '#fff';
  ctx.font = 'bold 10px system-ui, sans-serif';
  ctx.fillText('x', hx, hy);
}

/** The grid angle (degrees in [0, 360)) where a density is largest. */
export function modeDegrees(theta: readonly number[], p: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] ?? -1) > (p[best] ?? -1)) best = i;
  return (((theta[best] ?? 0) * 180) / Math.PI + 360) % 360;
}
