import type { FigureDef } from '../../core/types.js';
import { styled } from '../figure-style.js';
import { type E1NtkRow, type E1TestNllRow, e1MetricRowSchema, MODELS } from './schema.js';
import { byWidth, type E1Run } from './summary.js';

/** A run's metric rows, typed by the E1 row schema. */
export function e1Rows(r: E1Run) {
  const rows = r.metrics.map((m) => e1MetricRowSchema.parse(m));
  return {
    testNll: rows.filter((m): m is E1TestNllRow => m.kind === 'testNll'),
    ntk: rows.filter((m): m is E1NtkRow => m.kind === 'ntk'),
  };
}

export function e1Figures(runs: readonly E1Run[], exactNll: number): FigureDef[] {
  const nllRows = byWidth(runs).flatMap((r) =>
    e1Rows(r).testNll.map((m) => ({
      width: r.config.width,
      model: m.model,
      step: m.step,
      nll: m.nll,
      exactNll,
    })),
  );
  const ntkRows = byWidth(runs).flatMap((r) =>
    e1Rows(r).ntk.map((m) => ({
      width: r.config.width,
      step: m.step,
      jacobianDistance: m.jacobianDistance,
      ntkDistance: m.ntkDistance,
      eig1: m.eig1,
      eig2: m.eig2,
    })),
  );
  // Zoom on the end of training: from just below the exact NLL to a bit above the worst final
  // value (early steps, up to log 2π ≈ 1.84, are clipped; the CSV has every value).
  const finals = byWidth(runs).flatMap((r) => MODELS.map((m) => r.summary.finalTestNll[m]));
  // Both ends on a 0.05 grid, so the axis runs exactly over the range the title states.
  const lo = Math.floor((exactNll - 0.05) * 20) / 20;
  const hi =
    Math.ceil(Math.max(exactNll + 0.15, Math.max(...finals.filter(Number.isFinite)) + 0.1) * 20) / 20;
  // one panel per width, at most 4 a row (wrapped beyond), sized to fill report.html's column
  const nWidths = new Set(runs.map((r) => r.config.width)).size;
  const columns = nWidths <= 3 ? Math.max(1, nWidths) : Math.min(4, Math.ceil(nWidths / 2));
  const panelWidth = Math.floor(880 / columns) - 20;
  const figure1: FigureDef = {
    name: 'figure-1',
    title: 'Figure 1: test NLL of the full network and its linearization',
    paperCaption:
      'Test NLL of the neural network and its linearization against training step for widths 64, 256 and 1024, with the exact posterior NLL as a red line: as the width grows the two curves coincide, and both reach the exact NLL.',
    rows: nllRows,
    spec: styled({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      // the y axis runs exactly over [lo, hi] (nice: false), the range the title states
      title: `E1: test NLL vs step (red: exact posterior NLL ${exactNll.toFixed(4)}; y axis ${lo.toFixed(2)} to ${hi.toFixed(2)}, values outside clipped)`,
      data: { values: nllRows },
      facet: { field: 'width', type: 'ordinal', title: 'width' },
      columns,
      spec: {
        width: panelWidth,
        height: 240,
        layer: [
          {
            mark: { type: 'line', clip: true, strokeWidth: 1.5 },
            encoding: {
              x: { field: 'step', type: 'quantitative', title: 'step' },
              y: {
                field: 'nll',
                type: 'quantitative',
                title: 'test NLL',
                scale: { domain: [lo, hi], nice: false },
              },
              color: {
                field: 'model',
                type: 'nominal',
                title: 'model',
                scale: { domain: ['full', 'linear'], range: ['#1f77b4', '#ff7f0e'] },
              },
              strokeDash: { field: 'model', type: 'nominal', title: 'model' },
            },
          },
          {
            mark: { type: 'rule', color: '#d62728', strokeWidth: 1.5 },
            encoding: { y: { aggregate: 'mean', field: 'exactNll', type: 'quantitative' } },
          },
        ],
      },
    }),
  };
  const widthColor = { field: 'width', type: 'ordinal', title: 'width', scale: { scheme: 'viridis' } };
  const positive = ntkRows.filter((r) => r.step > 0);
  const lineSpec = (field: string, ytitle: string, title: string) =>
    styled({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: 600,
      height: 300,
      data: { values: positive },
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field, type: 'quantitative', title: ytitle, scale: { type: 'log' } },
        color: widthColor,
      },
    });
  const eigRows = positive.flatMap((r) => [
    { width: r.width, step: r.step, eigenvalue: '|λ1|', value: r.eig1 },
    { width: r.width, step: r.step, eigenvalue: '|λ2|', value: r.eig2 },
  ]);
  return [
    figure1,
    {
      name: 'figure-a1-jacobian-distance',
      title: 'Appendix: Jacobian distance from initialization',
      paperCaption:
        'Mean over the tracked inputs of ‖J_t(x) − J_0(x)‖_F during training, one curve per width: the Jacobian moves less from its initial value as the width grows (the network stays closer to its linearization).',
      rows: ntkRows,
      spec: lineSpec(
        'jacobianDistance',
        '‖J_t − J_0‖_F (mean over tracked x)',
        'E1: Jacobian distance from initialization',
      ),
    },
    {
      name: 'figure-a2-ntk-distance',
      title: 'Appendix: NTK distance from initialization',
      paperCaption:
        'Mean over the tracked inputs of ‖K_t(x,x) − K_0(x,x)‖_F with K(x,x) = J(x)J(x)ᵀ: the NTK changes less during training as the width grows (the lazy-training / NTK regime).',
      rows: ntkRows,
      spec: lineSpec(
        'ntkDistance',
        '‖K_t − K_0‖_F (mean over tracked x)',
        'E1: NTK distance from initialization',
      ),
    },
    {
      name: 'figure-a3-ntk-eigenvalues',
      title: 'Appendix: eigenvalues of the NTK change',
      paperCaption:
        'Mean over the tracked inputs of the eigenvalue magnitudes |λ1| ≥ |λ2| of K_t(x,x) − K_0(x,x): both shrink as the width grows.',
      rows: eigRows,
      spec: styled({
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'E1: eigenvalues of K_t(x,x) − K_0(x,x)',
        data: { values: eigRows },
        facet: { column: { field: 'eigenvalue', type: 'nominal', title: null } },
        spec: {
          width: 400,
          height: 260,
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'value', type: 'quantitative', title: 'mean |λ|', scale: { type: 'log' } },
            color: widthColor,
          },
        },
      }),
    },
  ];
}
