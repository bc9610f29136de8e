import type { FigureDef } from '../../core/types.js';
import { splitAtWrap } from '../angles.js';
import { styled } from '../figure-style.js';
import type { E4Method } from './config.js';
import { e4MetricRowSchema } from './schema.js';
import { type E4Run, METRICS } from './summary.js';

const LABEL: Record<E4Method, string> = { forwardKl: 'L_P', elbo: 'ELBO' };

/** Figure 7's rows: one per (run, step, metric); the angle series is split at the 0°/360° wrap. */
export function e4FigureRows(runs: readonly E4Run[]): Record<string, string | number | null>[] {
  return runs.flatMap((r) => {
    const method = LABEL[r.config.method];
    const metrics = r.metrics.map((m) => e4MetricRowSchema.parse(m)).sort((a, b) => a.step - b.step);
    const rows: Record<string, string | number | null>[] = [];
    for (const k of METRICS) {
      if (k === 'angleDeg') {
        for (const p of splitAtWrap(metrics.map((m) => ({ step: m.step, angleDeg: m.angleDeg })))) {
          rows.push({
            method,
            step: p.step,
            metric: k,
            value: p.angleDeg,
            segment: p.segment,
            point: p.point,
          });
        }
      } else {
        for (const m of metrics) {
          rows.push({ method, step: m.step, metric: k, value: m[k], segment: 0, point: 'measured' });
        }
      }
    }
    return rows;
  });
}

export function e4Figures(runs: readonly E4Run[]): FigureDef[] {
  const rows = e4FigureRows(runs);
  // the true rotation angle (the same in every run), drawn as the dashed line of the angle panel
  const truth = runs[0]?.summary.trueAngleDeg;
  // and the exact posterior's mode (grid), which L_P's mode should reach (dotted)
  const posteriorMode = runs[0]?.summary.posteriorModeDeg;
  const panel = (
    metric: (typeof METRICS)[number],
    title: string | string[],
    log: boolean,
    ytitle: string = String(title),
  ) => {
    const angle = metric === 'angleDeg';
    return {
      title,
      width: 400,
      height: 210,
      transform: [{ filter: `datum.metric === '${metric}'` }],
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.4 },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: {
              field: 'value',
              type: 'quantitative',
              title: ytitle,
              scale: angle ? { domain: [0, 360], nice: false } : log ? { type: 'symlog' } : { zero: false },
              ...(angle ? { axis: { values: [0, 90, 180, 270, 360] } } : {}),
            },
            color: { field: 'method', type: 'nominal', title: 'objective' },
            // one line per unbroken piece: an angle series is broken where it crosses 0°/360°
            detail: { field: 'segment', type: 'nominal' },
          },
        },
        ...(angle && truth !== undefined
          ? [
              {
                mark: { type: 'rule', strokeDash: [4, 4], color: 'black' },
                encoding: { y: { datum: truth } },
              },
            ]
          : []),
        ...(angle && posteriorMode !== undefined
          ? [
              {
                mark: { type: 'rule', strokeDash: [1, 3], strokeWidth: 2, color: '#555' },
                encoding: { y: { datum: posteriorMode } },
              },
            ]
          : []),
      ],
    };
  };
  return [
    {
      name: 'figure-7',
      title: 'Figure 7: rotated MNIST with known latents — L_P vs ELBO',
      paperCaption:
        'Forward KL, NLL of the true angle, reverse KL and the variational mode over training: L_P reaches low forward KL and NLL and the true angle; the ELBO does not.',
      spec: styled({
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
              panel(
                'angleDeg',
                [
                  'mode of q (on the circle: broken at 0°/360°)',
                  'dashed: truth, dotted: exact posterior mode',
                ],
                false,
                'mode of q (degrees)',
              ),
            ],
          },
        ],
      }),
      rows,
    },
  ];
}
