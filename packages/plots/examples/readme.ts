import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coverageSpec, pairPlotSpec, renderVegaLite, writeFigure } from '@gcvi/plots';

export async function main() {
  const out = mkdtempSync(join(tmpdir(), 'gcvi-plots-'));

  // Any Vega-Lite spec with inline data → SVG and PNG, no browser.
  const { svg, png } = await renderVegaLite({
    data: {
      values: [
        { step: 0, loss: 1.2 },
        { step: 100, loss: 0.7 },
        { step: 200, loss: 0.5 },
      ],
    },
    mark: 'line',
    encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
  });

  // Diagnostic figures from plain numbers (e.g. the results of @gcvi/inference's diagnostics),
  // written as <name>.svg, .png, .csv (the data) and .vl.json (the spec).
  const levels = [0.1, 0.3, 0.5, 0.7, 0.9];
  const coverage = await writeFigure(out, {
    name: 'coverage',
    ...coverageSpec({ levels, coverage: [0.08, 0.31, 0.52, 0.69, 0.91] }),
  });
  const samples = Array.from({ length: 200 }, (_, i) => [Math.cos(i) * (1 + i / 200), Math.sin(i)]);
  const pairs = await writeFigure(out, {
    name: 'pairs',
    ...pairPlotSpec(samples, { names: ['a', 'b'], reference: [0, 0] }),
  });

  return { svgBytes: svg.length, pngBytes: png.length, files: [coverage.svg, coverage.png, pairs.csv] };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
