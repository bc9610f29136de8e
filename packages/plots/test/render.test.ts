import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderVegaLite, toCsv, writeFigure } from '@gcvi/plots';
import { describe, expect, it } from 'vitest';

const spec = {
  width: 200,
  height: 100,
  data: {
    values: [
      { step: 0, nll: 1.8, model: 'full' },
      { step: 10, nll: 0.9, model: 'full' },
      { step: 0, nll: 1.8, model: 'linear' },
      { step: 10, nll: 1.0, model: 'linear' },
    ],
  },
  mark: 'line',
  encoding: {
    x: { field: 'step', type: 'quantitative' },
    y: { field: 'nll', type: 'quantitative' },
    color: { field: 'model', type: 'nominal' },
  },
};

describe('figures without a browser', () => {
  it('renders a Vega-Lite spec to SVG (two line paths, axes, legend) and a 2× PNG', async () => {
    const { svg, png } = await renderVegaLite(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('role-axis');
    expect(svg).toContain('role-legend');
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(2);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svgWidth = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    const pngWidth = Buffer.from(png).readUInt32BE(16); // IHDR width
    expect(pngWidth).toBe(Math.round(2 * svgWidth));
  });

  it('an invalid spec is an error, not an empty picture', async () => {
    await expect(renderVegaLite({ data: { values: [] }, mark: 'no-such-mark' })).rejects.toThrow();
  });

  it('writes svg, png, csv (the data) and the spec beside each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-fig-'));
    try {
      const files = await writeFigure(dir, {
        name: 'f',
        title: 'F',
        paperCaption: '',
        spec,
        rows: spec.data.values,
      });
      expect(readFileSync(files.csv, 'utf8')).toBe(
        'step,nll,model\n0,1.8,full\n10,0.9,full\n0,1.8,linear\n10,1,linear\n',
      );
      expect(JSON.parse(readFileSync(files.spec, 'utf8'))).toEqual(spec);
      expect(readFileSync(files.svg, 'utf8')).toContain('<svg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CSV quotes commas, quotes and newlines, and leaves non-finite numbers empty', () => {
    expect(
      toCsv([
        { a: 'x,y', b: 'say "hi"' },
        { a: Number.NaN, c: 'l1\nl2' },
      ]),
    ).toBe('a,b,c\n"x,y","say ""hi""",\n,,"l1\nl2"\n');
  });
});
