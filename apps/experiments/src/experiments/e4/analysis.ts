import type { CheckedClaim, FigureDef, SummaryTree } from '../../core/types.js';
import type { LoadedRun } from '../../store/store.js';
import type { E4Config, E4Method } from './config.js';
import type { E4RunSummary } from './run.js';
import { e4MetricRowSchema } from './schema.js';

export type E4Run = LoadedRun<E4Config, E4RunSummary>;

const LABEL: Record<E4Method, string> = { forwardKl: 'L_P', elbo: 'ELBO' };
const METRICS = ['forwardKl', 'reverseKl', 'nll', 'angleDeg'] as const;

/** `summary.e4`: `final.<forwardKl|elbo>.<forwardKl|reverseKl|nll|angleDeg>` and the exact-posterior numbers. */
export function summarizeE4(runs: readonly E4Run[]): SummaryTree {
  if (runs.length === 0) throw new Error('e4: no finished runs to summarize');
  const final: Record<string, SummaryTree> = {};
  for (const r of runs) {
    final[r.config.method] = Object.fromEntries(METRICS.map((k) => [k, r.summary.final[k]]));
  }
  const r0 = runs[0]!.summary;
  return {
    trueAngleDeg: r0.trueAngleDeg,
    posteriorModeDeg: r0.posteriorModeDeg,
    posteriorSdDeg: (r0.posteriorSd * 180) / Math.PI,
    logEvidence: r0.logEvidence,
    generator: r0.generator,
    final,
  };
}

export function e4Figures(runs: readonly E4Run[]): FigureDef[] {
  const rows = runs.flatMap((r) =>
    r.metrics
      .map((m) => e4MetricRowSchema.parse(m))
      .flatMap((m) =>
        METRICS.map((k) => ({
          method: LABEL[r.config.method],
          step: m.step,
          metric: k,
          value: m[k],
        })),
      ),
  );
  const panel = (metric: (typeof METRICS)[number], title: string, log: boolean) => ({
    title,
    width: 260,
    height: 180,
    transform: [{ filter: `datum.metric === '${metric}'` }],
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1.4 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: {
            field: 'value',
            type: 'quantitative',
            title,
            scale: log ? { type: 'symlog' } : { zero: false },
          },
          color: { field: 'method', type: 'nominal', title: 'objective' },
        },
      },
      ...(metric === 'angleDeg'
        ? [{ mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { y: { datum: 260 } } }]
        : []),
    ],
  });
  return [
    {
      name: 'figure-7',
      title: 'Figure 7: rotated MNIST with known latents — L_P vs ELBO',
      paperCaption:
        'Forward KL, NLL of the true angle, reverse KL and the variational mode over training: L_P reaches low forward KL and NLL and the true angle; the ELBO does not.',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        data: { values: rows },
        vconcat: [
          {
            hconcat: [
              panel('forwardKl', 'forward KL(p‖q)', true),
              panel('nll', 'NLL of the true angle', true),
            ],
          },
          {
            hconcat: [
              panel('reverseKl', 'reverse KL(q‖p)', true),
              panel('angleDeg', 'mode of q (degrees)', false),
            ],
          },
        ],
      },
      rows,
    },
  ];
}

export function e4Claims(runs: readonly E4Run[]): CheckedClaim[] {
  const lp = runs.find((r) => r.config.method === 'forwardKl')?.summary.final;
  const el = runs.find((r) => r.config.method === 'elbo')?.summary.final;
  if (!lp || !el) {
    return [
      {
        id: 'e4-lp-beats-elbo',
        paper: 'L_P ends with lower forward KL and NLL than the ELBO (Figure 7).',
        test: 'both runs finished',
        measured: 'missing a run',
        values: {},
        status: 'n/a',
        figures: ['figure-7'],
      },
    ];
  }
  const f = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(3) : v.toFixed(3));
  return [
    {
      id: 'e4-lp-beats-elbo',
      paper: 'L_P ends with lower forward KL and lower NLL of the true angle than the ELBO (Figure 7).',
      test: 'final forward KL and NLL: L_P < ELBO',
      measured: `forward KL L_P ${f(lp.forwardKl)} vs ELBO ${f(el.forwardKl)}; NLL L_P ${f(lp.nll)} vs ELBO ${f(el.nll)}; mode L_P ${lp.angleDeg.toFixed(1)}° vs ELBO ${el.angleDeg.toFixed(1)}° (truth 260°)`,
      values: { lpForwardKl: lp.forwardKl, elboForwardKl: el.forwardKl, lpNll: lp.nll, elboNll: el.nll },
      status: lp.forwardKl < el.forwardKl && lp.nll < el.nll ? 'pass' : 'fail',
      figures: ['figure-7'],
    },
  ];
}
