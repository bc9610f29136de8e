import type { FigureDef } from '../../core/types.js';
import type { E4Method } from './config.js';
import { e4MetricRowSchema } from './schema.js';
import { type E4Run, METRICS } from './summary.js';

const LABEL: Record<E4Method, string> = { forwardKl: 'L_P', elbo: 'ELBO' };

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
