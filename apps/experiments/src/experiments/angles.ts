/**
 * Angles on the circle for line figures (E3's Figures 4–6, E4's Figure 7): an angle trajectory in
 * [0°, 360°) that moves from 350° to 10° moved 20° across the wrap, not 340° back through every
 * angle between (and through the truth at 260°). `splitAtWrap` breaks such a series into segments
 * at the wrap, adding the crossing point on both edges (at 360° and at 0°, at the step where the
 * shortest arc between the two measurements crosses), so a line chart with `detail: segment` draws
 * each trajectory on the circle.
 */

/** One point of a drawn angle series. */
export interface WrapPoint {
  readonly step: number;
  readonly angleDeg: number;
  /** Index of the unbroken piece of the series this point belongs to (0, 1, … in step order). */
  readonly segment: number;
  /** `measured`: a value of the run; `wrap`: where the line leaves or enters at 0°/360° (interpolated). */
  readonly point: 'measured' | 'wrap';
}

/** Signed shortest arc (degrees, in [−180, 180)) from `a` to `b`. */
export function shortestArc(a: number, b: number, period = 360): number {
  const d = (((b - a) % period) + period * 1.5) % period;
  return d - period / 2;
}

/**
 * Split a series of angles in [0, period) (sorted by step) where the shortest arc between two
 * consecutive measurements crosses 0/period: the line then ends at the edge it leaves by and a
 * new segment starts at the opposite edge, at the interpolated step of the crossing.
 */
export function splitAtWrap(
  series: ReadonlyArray<{ readonly step: number; readonly angleDeg: number }>,
  period = 360,
): WrapPoint[] {
  const out: WrapPoint[] = [];
  let segment = 0;
  for (let i = 0; i < series.length; i++) {
    const cur = series[i]!;
    const prev = i > 0 ? series[i - 1] : undefined;
    if (prev && Number.isFinite(prev.angleDeg) && Number.isFinite(cur.angleDeg)) {
      const d = shortestArc(prev.angleDeg, cur.angleDeg, period);
      const end = prev.angleDeg + d;
      if (end >= period || end < 0) {
        const edge = end >= period ? period : 0;
        const t = d === 0 ? 0 : (edge - prev.angleDeg) / d;
        const step = prev.step + t * (cur.step - prev.step);
        out.push({ step, angleDeg: edge, segment, point: 'wrap' });
        segment += 1;
        out.push({ step, angleDeg: period - edge, segment, point: 'wrap' });
      }
    }
    out.push({ step: cur.step, angleDeg: cur.angleDeg, segment, point: 'measured' });
  }
  return out;
}
