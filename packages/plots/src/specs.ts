/**
 * Vega-Lite spec builders for posterior diagnostics. They take plain numbers (the results of
 * `@gcvi/inference`'s `sbc` and `expectedCoverage`, or anything of the same shape) and return the
 * spec with its data inline plus the rows behind it, ready for `writeFigure` or `renderVegaLite`.
 */

/** A spec with inline data and the rows it shows. */
export interface FigureSpec {
  readonly spec: Record<string, unknown>;
  readonly rows: Record<string, string | number>[];
}

/** What `sbcEcdfSpec` reads from an SBC result. */
export interface SbcEcdfInput {
  readonly dims: ReadonlyArray<{
    readonly ecdf: {
      readonly z: readonly number[];
      readonly value: readonly number[];
      readonly lower: readonly number[];
      readonly upper: readonly number[];
    };
  }>;
  readonly bandLevel?: number;
  readonly settings?: string;
}

export interface SbcEcdfOptions {
  /** Parameter names (default θ1, θ2, …). */
  readonly names?: readonly string[];
  /** Plot ECDF − uniform CDF (default true, as Säilynoja et al.), else the ECDF itself. */
  readonly difference?: boolean;
  readonly title?: string;
  /** Width and height of each panel (default 180 × 140). */
  readonly width?: number;
  readonly height?: number;
}

const defaultNames = (n: number) => Array.from({ length: n }, (_, i) => `θ${i + 1}`);

/**
 * SBC rank ECDF with its simultaneous band, one panel per parameter: the ECDF of the fractional
 * ranks (or its difference from the uniform CDF) as a line, the band as a shaded area. A
 * calibrated posterior stays inside the band.
 */
export function sbcEcdfSpec(sbc: SbcEcdfInput, options: SbcEcdfOptions = {}): FigureSpec {
  const names = options.names ?? defaultNames(sbc.dims.length);
  if (names.length !== sbc.dims.length) {
    throw new Error(
      `sbcEcdfSpec: names has ${names.length} entries, the SBC result ${sbc.dims.length} parameters`,
    );
  }
  const diff = options.difference ?? true;
  const rows: Record<string, string | number>[] = [];
  sbc.dims.forEach((d, j) => {
    const e = d.ecdf;
    rows.push({ parameter: names[j] as string, z: 0, ecdf: 0, lower: 0, upper: 0 });
    e.z.forEach((z, k) => {
      const off = diff ? z : 0;
      rows.push({
        parameter: names[j] as string,
        z,
        ecdf: (e.value[k] as number) - off,
        lower: (e.lower[k] as number) - off,
        upper: (e.upper[k] as number) - off,
      });
    });
    rows.push({
      parameter: names[j] as string,
      z: 1,
      ecdf: diff ? 0 : 1,
      lower: diff ? 0 : 1,
      upper: diff ? 0 : 1,
    });
  });
  const level = sbc.bandLevel ?? 0.95;
  const yTitle = diff ? 'ECDF − uniform' : 'ECDF';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? {
      text: 'SBC rank ECDF',
      subtitle: `${Math.round(level * 100)}% simultaneous band`,
    },
    data: { values: rows },
    facet: { column: { field: 'parameter', type: 'nominal', title: null, sort: [...names] } },
    spec: {
      width: options.width ?? 180,
      height: options.height ?? 140,
      layer: [
        {
          mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
          encoding: {
            x: { field: 'z', type: 'quantitative', title: 'fractional rank', scale: { domain: [0, 1] } },
            y: { field: 'lower', type: 'quantitative', title: yTitle },
            y2: { field: 'upper' },
          },
        },
        {
          mark: { type: 'line', color: '#e45756', interpolate: 'step-after' },
          encoding: {
            x: { field: 'z', type: 'quantitative' },
            y: { field: 'ecdf', type: 'quantitative' },
          },
        },
      ],
    },
  };
  return { spec, rows };
}

/** What `coverageSpec` reads from a coverage result. */
export interface CoverageInput {
  readonly levels: readonly number[];
  readonly coverage: readonly number[];
  readonly lower?: readonly number[];
  readonly upper?: readonly number[];
}

/**
 * Expected coverage: empirical coverage against the credibility level, the diagonal (calibrated)
 * and, when given, the band a calibrated posterior stays in. Below the diagonal = over-confident.
 */
export function coverageSpec(
  cov: CoverageInput,
  options: { title?: string; width?: number; height?: number } = {},
): FigureSpec {
  if (cov.levels.length !== cov.coverage.length) {
    throw new Error('coverageSpec: levels and coverage must have the same length');
  }
  const rows: Record<string, string | number>[] = cov.levels.map((c, k) => ({
    level: c,
    coverage: cov.coverage[k] as number,
    ...(cov.lower && cov.upper ? { lower: cov.lower[k] as number, upper: cov.upper[k] as number } : {}),
  }));
  const layers: Record<string, unknown>[] = [];
  if (cov.lower && cov.upper) {
    layers.push({
      mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
      encoding: {
        x: { field: 'level', type: 'quantitative' },
        y: { field: 'lower', type: 'quantitative' },
        y2: { field: 'upper' },
      },
    });
  }
  layers.push(
    {
      mark: { type: 'rule', strokeDash: [4, 4], color: 'grey' },
      data: { values: [{ a: 0, b: 0, a2: 1, b2: 1 }] },
      encoding: {
        x: { field: 'a', type: 'quantitative' },
        y: { field: 'b', type: 'quantitative' },
        x2: { field: 'a2' },
        y2: { field: 'b2' },
      },
    },
    {
      mark: { type: 'line', point: true, color: '#e45756' },
      encoding: {
        x: { field: 'level', type: 'quantitative', title: 'credibility level', scale: { domain: [0, 1] } },
        y: {
          field: 'coverage',
          type: 'quantitative',
          title: 'empirical coverage',
          scale: { domain: [0, 1] },
        },
      },
    },
  );
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Expected coverage',
    width: options.width ?? 220,
    height: options.height ?? 220,
    data: { values: rows },
    layer: layers,
  };
  return { spec, rows };
}

export interface PairPlotOptions {
  /** Parameter names (default θ1, θ2, …). */
  readonly names?: readonly string[];
  /** A reference point (e.g. the true θ) drawn in every panel. */
  readonly reference?: readonly number[];
  /** Panel size in pixels (default 120). */
  readonly size?: number;
  readonly title?: string;
  /** Histogram bins on the diagonal (default 30). */
  readonly bins?: number;
}

/**
 * Posterior pair plot: histograms of each parameter on the diagonal, scatter plots of each pair
 * below it. `samples` is `[n][dim]` (or a flat row-major array with `dim`).
 */
export function pairPlotSpec(
  samples: ReadonlyArray<ArrayLike<number>> | { readonly values: ArrayLike<number>; readonly dim: number },
  options: PairPlotOptions = {},
): FigureSpec {
  let points: number[][];
  if ('values' in samples && 'dim' in samples) {
    const { values, dim } = samples as { values: ArrayLike<number>; dim: number };
    points = [];
    for (let i = 0; i + dim <= values.length; i += dim)
      points.push(Array.from({ length: dim }, (_, j) => values[i + j] as number));
  } else {
    points = (samples as ReadonlyArray<ArrayLike<number>>).map((r) => Array.from(r));
  }
  const dim = points[0]?.length ?? 0;
  if (dim === 0) throw new Error('pairPlotSpec: no samples');
  const names = options.names ?? defaultNames(dim);
  if (names.length !== dim)
    throw new Error(`pairPlotSpec: names has ${names.length} entries, samples have ${dim}`);
  const rows = points.map((p) => Object.fromEntries(names.map((n, j) => [n, p[j] as number])));
  const size = options.size ?? 120;
  const ref = options.reference
    ? [Object.fromEntries(names.map((n, j) => [n, options.reference![j] as number]))]
    : undefined;
  const grid = names.map((rowName, i) => ({
    hconcat: names.map((colName, j) => {
      if (j > i) return { width: size, height: size, mark: { type: 'point', opacity: 0 }, encoding: {} };
      if (i === j) {
        const layer: Record<string, unknown>[] = [
          {
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              x: {
                field: colName,
                type: 'quantitative',
                bin: { maxbins: options.bins ?? 30 },
                title: colName,
              },
              y: { aggregate: 'count', type: 'quantitative', title: null },
            },
          },
        ];
        if (ref)
          layer.push({
            data: { values: ref },
            mark: { type: 'rule', color: '#e45756' },
            encoding: { x: { field: colName, type: 'quantitative' } },
          });
        return { width: size, height: size, layer };
      }
      const layer: Record<string, unknown>[] = [
        {
          mark: { type: 'circle', size: 6, opacity: 0.35, color: '#4c78a8' },
          encoding: {
            x: {
              field: colName,
              type: 'quantitative',
              scale: { zero: false },
              title: i === dim - 1 ? colName : null,
            },
            y: {
              field: rowName,
              type: 'quantitative',
              scale: { zero: false },
              title: j === 0 ? rowName : null,
            },
          },
        },
      ];
      if (ref) {
        layer.push({
          data: { values: ref },
          mark: { type: 'point', shape: 'cross', size: 80, color: '#e45756', filled: true },
          encoding: {
            x: { field: colName, type: 'quantitative' },
            y: { field: rowName, type: 'quantitative' },
          },
        });
      }
      return { width: size, height: size, layer };
    }),
  }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Posterior',
    data: { values: rows },
    vconcat: grid,
  };
  return { spec, rows };
}
