import type { LoadedRun } from '../../core/store.js';
import type { CheckedClaim, FigureDef, SummaryTree } from '../../core/types.js';
import type { E1Config } from './config.js';
import { type E1RunSummary, e1TrackedInputs, MODELS } from './run.js';
import { infiniteGramSpectrum } from './track.js';

export type E1Run = LoadedRun<E1Config, E1RunSummary>;

const byWidth = (runs: readonly E1Run[]) => [...runs].sort((a, b) => a.config.width - b.config.width);

function perWidth(runs: readonly E1Run[], f: (r: E1Run) => number): SummaryTree {
  return Object.fromEntries(byWidth(runs).map((r) => [String(r.config.width), f(r)]));
}

/**
 * `summary.e1`: nested objects keyed by model and by width as a string, e.g.
 * `summary.e1.finalTestNll.full["1024"]`, `summary.e1.jacobianDistance["64"]`.
 */
export function summarizeE1(runs: readonly E1Run[]): SummaryTree {
  if (runs.length === 0) throw new Error('e1: no finished runs to summarize');
  const exact = runs[0]!.summary.exactNll;
  for (const r of runs) {
    if (Math.abs(r.summary.exactNll - exact) > 1e-12) {
      throw new Error(
        `e1: runs disagree on the exact NLL (${exact} vs ${r.summary.exactNll}): different test sets`,
      );
    }
  }
  const model = (f: (r: E1Run, m: (typeof MODELS)[number]) => number): SummaryTree =>
    Object.fromEntries(MODELS.map((m) => [m, perWidth(runs, (r) => f(r, m))]));
  return {
    exactNll: exact,
    widths: byWidth(runs)
      .map((r) => r.config.width)
      .join(','),
    steps: Math.max(...runs.map((r) => r.config.steps)),
    finalTestNll: model((r, m) => r.summary.finalTestNll[m]),
    gapToExact: model((r, m) => r.summary.finalTestNll[m] - exact),
    fullMinusLinear: perWidth(runs, (r) => r.summary.finalTestNll.full - r.summary.finalTestNll.linear),
    jacobianDistance: perWidth(runs, (r) => r.summary.jacobianDistance),
    ntkDistance: perWidth(runs, (r) => r.summary.ntkDistance),
    ntkMinEigenvalue: perWidth(runs, (r) => r.summary.ntkMinEigenvalue),
    ntkMinEigenvalueFinal: perWidth(runs, (r) => r.summary.ntkMinEigenvalueFinal),
    infiniteNtkMinEigenvalue: runs[0]!.summary.infiniteNtkMinEigenvalue,
    skippedSteps: model((r, m) => r.summary.skippedSteps[m]),
    trainSeconds: model((r, m) => r.summary.trainSeconds[m]),
  };
}

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
const g3 = (v: number) => (Number.isFinite(v) ? v.toPrecision(3) : String(v));

export function e1Figures(runs: readonly E1Run[], exactNll: number): FigureDef[] {
  const nllRows = byWidth(runs).flatMap((r) =>
    r.metrics
      .filter((m) => m.kind === 'testNll')
      .map((m) => ({
        width: r.config.width,
        model: String(m.model),
        step: m.step,
        nll: Number(m.nll),
        exactNll,
      })),
  );
  const ntkRows = byWidth(runs).flatMap((r) =>
    r.metrics
      .filter((m) => m.kind === 'ntk')
      .map((m) => ({
        width: r.config.width,
        step: m.step,
        jacobianDistance: Number(m.jacobianDistance),
        ntkDistance: Number(m.ntkDistance),
        eig1: Number(m.eig1),
        eig2: Number(m.eig2),
      })),
  );
  // Zoom on the end of training: from just below the exact NLL to a bit above the worst final
  // value (early steps, up to log 2π ≈ 1.84, are clipped; the CSV has every value).
  const finals = byWidth(runs).flatMap((r) => MODELS.map((m) => r.summary.finalTestNll[m]));
  const lo = exactNll - 0.05;
  const hi = Math.max(exactNll + 0.15, Math.max(...finals.filter(Number.isFinite)) + 0.1);
  const figure1: FigureDef = {
    name: 'figure-1',
    title: 'Figure 1: test NLL of the full network and its linearization',
    paperCaption:
      'Test NLL of the neural network and its linearization against training step for widths 64, 256 and 1024, with the exact posterior NLL as a red line: as the width grows the two curves coincide, and both reach the exact NLL.',
    rows: nllRows,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `E1: test NLL vs step (red: exact posterior NLL ${exactNll.toFixed(4)}; y clipped to [${lo.toFixed(2)}, ${hi.toFixed(2)}])`,
      data: { values: nllRows },
      facet: { column: { field: 'width', type: 'ordinal', title: 'width' } },
      spec: {
        width: 260,
        height: 220,
        layer: [
          {
            mark: { type: 'line', clip: true, strokeWidth: 1.5 },
            encoding: {
              x: { field: 'step', type: 'quantitative', title: 'step' },
              y: { field: 'nll', type: 'quantitative', title: 'test NLL', scale: { domain: [lo, hi] } },
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
    },
  };
  const widthColor = { field: 'width', type: 'ordinal', title: 'width', scale: { scheme: 'viridis' } };
  const positive = ntkRows.filter((r) => r.step > 0);
  const lineSpec = (field: string, ytitle: string, title: string) => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 280,
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
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'E1: eigenvalues of K_t(x,x) − K_0(x,x)',
        data: { values: eigRows },
        facet: { column: { field: 'eigenvalue', type: 'nominal', title: null } },
        spec: {
          width: 300,
          height: 240,
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'value', type: 'quantitative', title: 'mean |λ|', scale: { type: 'log' } },
            color: widthColor,
          },
        },
      },
    },
  ];
}

function decreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v < (values[i - 1] as number)) && values.every(Number.isFinite);
}

/** The claims of DESIGN §2 E1 / issue 4, each checked with a fixed threshold. */
export function e1Claims(runs: readonly E1Run[], exactNll: number): CheckedClaim[] {
  const sorted = byWidth(runs);
  const widths = sorted.map((r) => r.config.width);
  const target = sorted.find((r) => r.config.width === 1024);
  const claims: CheckedClaim[] = [];
  const na = (id: string, paper: string, test: string, figures: string[]): CheckedClaim => ({
    id,
    paper,
    test,
    measured: `not checkable: this profile has no width-1024 run (widths ${widths.join(', ')})`,
    values: {},
    status: 'n/a',
    figures,
  });
  for (const m of ['full', 'linear'] as const) {
    const id = `e1-${m}-1024-reaches-exact`;
    const paper = `At width 1024 the ${m === 'full' ? 'neural network' : 'linearized network'} reaches the exact-posterior test NLL.`;
    const test = '|final test NLL − exact NLL| ≤ 0.01 on the same 1,000-point test set';
    if (!target) {
      claims.push(na(id, paper, test, ['figure-1']));
      continue;
    }
    const v = target.summary.finalTestNll[m];
    const gap = v - exactNll;
    claims.push({
      id,
      paper,
      test,
      measured: `${m} ${f4(v)} vs exact ${f4(exactNll)} after ${target.config.steps.toLocaleString('en')} steps: gap ${gap >= 0 ? '+' : ''}${f4(gap)}`,
      values: { finalTestNll: v, exactNll, gap },
      status: Math.abs(gap) <= 0.01 ? 'pass' : 'fail',
      figures: ['figure-1'],
    });
  }
  {
    const id = 'e1-1024-full-matches-linear';
    const paper = 'At width 1024 the network and its linearization have the same test NLL curve.';
    const test = '|full − linear| ≤ 0.005 at the final step';
    if (!target) claims.push(na(id, paper, test, ['figure-1']));
    else {
      const d = target.summary.finalTestNll.full - target.summary.finalTestNll.linear;
      claims.push({
        id,
        paper,
        test,
        measured: `full ${f4(target.summary.finalTestNll.full)}, linear ${f4(target.summary.finalTestNll.linear)}: difference ${f4(d)}`,
        values: { difference: d },
        status: Math.abs(d) <= 0.005 ? 'pass' : 'fail',
        figures: ['figure-1'],
      });
    }
  }
  const shrink = (
    id: string,
    what: string,
    key: 'jacobianDistance' | 'ntkDistance',
    fig: string,
  ): CheckedClaim => {
    const vals = sorted.map((r) => r.summary[key]);
    return {
      id,
      paper: `The ${what} from initialization shrinks as the width grows.`,
      test: `last tracked value strictly decreasing over widths ${widths.join(' < ')}`,
      measured: sorted.map((r, i) => `W=${r.config.width}: ${g3(vals[i] as number)}`).join(', '),
      values: Object.fromEntries(sorted.map((r, i) => [String(r.config.width), vals[i] as number])),
      status: widths.length < 2 ? 'n/a' : decreasing(vals) ? 'pass' : 'fail',
      figures: [fig],
    };
  };
  claims.push(
    shrink(
      'e1-jacobian-distance-shrinks',
      'Jacobian distance ‖J_t − J_0‖_F',
      'jacobianDistance',
      'figure-a1-jacobian-distance',
    ),
  );
  claims.push(
    shrink('e1-ntk-distance-shrinks', 'NTK distance ‖K_t − K_0‖_F', 'ntkDistance', 'figure-a2-ntk-distance'),
  );
  {
    const last = sorted.map((r) => {
      const rows = r.metrics.filter((m) => m.kind === 'ntk');
      const l = rows[rows.length - 1];
      return l ? Number(l.eig1) : Number.NaN;
    });
    claims.push({
      id: 'e1-ntk-eigenvalues-shrink',
      paper: 'The eigenvalues of K_t − K_0 shrink as the width grows.',
      test: `last tracked mean |λ1| strictly decreasing over widths ${widths.join(' < ')}`,
      measured: sorted.map((r, i) => `W=${r.config.width}: ${g3(last[i] as number)}`).join(', '),
      values: Object.fromEntries(sorted.map((r, i) => [String(r.config.width), last[i] as number])),
      status: widths.length < 2 ? 'n/a' : decreasing(last) ? 'pass' : 'fail',
      figures: ['figure-a3-ntk-eigenvalues'],
    });
  }
  {
    const x = e1TrackedInputs(sorted[0]!.config);
    const spec = infiniteGramSpectrum(x);
    x.dispose();
    const n = sorted[0]!.config.trackSize;
    claims.push({
      id: 'e1-ntk-positive-definite',
      paper:
        'The NTK Gram matrix on the tracked inputs is positive definite (the assumption of the convergence theorem).',
      test: `smallest eigenvalue of the infinite-width NTK Gram (last-layer part, the limit at the E1 initialization) on the ${n} tracked inputs, in float64, above its resolution N·ε·λ_max`,
      measured:
        `infinite width: λ_min = ${g3(spec.min)}, λ_max = ${g3(spec.max)}, resolution ${g3(spec.resolution)} ` +
        `(positive definite but very ill-conditioned: the kernel is smooth on the circle). Empirical Gram ` +
        `((2N)², float32 Jacobians) λ_min at init: ${sorted.map((r) => `W=${r.config.width}: ${g3(r.summary.ntkMinEigenvalue)}`).join(', ')}; ` +
        `after training: ${sorted.map((r) => `W=${r.config.width}: ${g3(r.summary.ntkMinEigenvalueFinal)}`).join(', ')} ` +
        '(at float32 resolution these are indistinguishable from 0: the empirical Gram is numerically singular).',
      values: { infiniteMin: spec.min, infiniteMax: spec.max, resolution: spec.resolution },
      status: spec.min > spec.resolution ? 'pass' : 'fail',
      figures: [],
    });
  }
  return claims;
}
