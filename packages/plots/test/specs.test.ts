import { coverageSpec, pairPlotSpec, renderVegaLite, sbcEcdfSpec } from '@gcvi/plots';
import { describe, expect, it } from 'vitest';

const z = [0.25, 0.5, 0.75];
const sbc = {
  bandLevel: 0.95,
  dims: [
    { ecdf: { z, value: [0.2, 0.55, 0.8], lower: [0.15, 0.4, 0.65], upper: [0.35, 0.6, 0.85] } },
    { ecdf: { z, value: [0.3, 0.5, 0.7], lower: [0.15, 0.4, 0.65], upper: [0.35, 0.6, 0.85] } },
  ],
};

describe('diagnostic spec builders', () => {
  it('SBC ECDF: one panel per parameter, band and line, difference from uniform by default', async () => {
    const { spec, rows } = sbcEcdfSpec(sbc, { names: ['a', 'b'] });
    // each panel: (0,0), the three points, (1,0)
    expect(rows).toHaveLength(10);
    const r = rows.find((x) => x.parameter === 'a' && x.z === 0.5)!;
    expect(r.ecdf).toBeCloseTo(0.05, 12);
    expect(r.lower).toBeCloseTo(-0.1, 12);
    const { svg } = await renderVegaLite(spec);
    expect((svg.match(/aria-roledescription="area mark"/g) ?? []).length).toBe(2);
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(2);
    expect(svg).toContain('ECDF − uniform');
    expect(() => sbcEcdfSpec(sbc, { names: ['a'] })).toThrow(/names has 1 entries/);
    const raw = sbcEcdfSpec(sbc, { difference: false });
    expect(raw.rows.find((x) => x.parameter === 'θ2' && x.z === 0.75)!.ecdf).toBe(0.7);
  });

  it('coverage: diagonal, band and the coverage line', async () => {
    const { spec, rows } = coverageSpec({
      levels: [0.1, 0.5, 0.9],
      coverage: [0.12, 0.45, 0.91],
      lower: [0.05, 0.4, 0.85],
      upper: [0.15, 0.6, 0.95],
    });
    expect(rows[1]).toEqual({ level: 0.5, coverage: 0.45, lower: 0.4, upper: 0.6 });
    const { svg } = await renderVegaLite(spec);
    expect(svg).toContain('empirical coverage');
    expect((svg.match(/aria-roledescription="area mark"/g) ?? []).length).toBe(1);
    expect((svg.match(/aria-roledescription="rule mark"/g) ?? []).length).toBe(1);
  });

  it('pair plot: histograms on the diagonal, scatter below, the reference point in every panel', async () => {
    const samples = Array.from({ length: 50 }, (_, i) => [Math.sin(i), Math.cos(i), i / 50]);
    const { spec, rows } = pairPlotSpec(samples, { names: ['x', 'y', 'z'], reference: [0, 0, 0.5] });
    expect(rows).toHaveLength(50);
    expect(rows[3]).toEqual({ x: Math.sin(3), y: Math.cos(3), z: 3 / 50 });
    const { svg } = await renderVegaLite(spec);
    // 3 scatter panels × 50 points
    expect((svg.match(/aria-roledescription="circle"/g) ?? []).length).toBe(150);
    const flat = pairPlotSpec({ values: samples.flat(), dim: 3 });
    expect(flat.rows).toEqual(pairPlotSpec(samples).rows);
  });
});
