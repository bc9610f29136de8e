import type { CheckedClaim } from '../../core/types.js';
import { scaleNote } from '../scale-note.js';
import { PAPER, PROFILE_SETTINGS } from './config.js';
import type { E4Run } from './summary.js';

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
  const status = lp.forwardKl < el.forwardKl && lp.nll < el.nll ? 'pass' : 'fail';
  // steps of these runs vs the default profile's (sized to show the claim)
  const note = scaleNote(
    status,
    Math.min(...runs.map((r) => r.config.steps)),
    PROFILE_SETTINGS.default.steps ?? PAPER.steps,
  );
  return [
    {
      id: 'e4-lp-beats-elbo',
      paper: 'L_P ends with lower forward KL and lower NLL of the true angle than the ELBO (Figure 7).',
      test: 'final forward KL and NLL: L_P < ELBO',
      measured: `forward KL L_P ${f(lp.forwardKl)} vs ELBO ${f(el.forwardKl)}; NLL L_P ${f(lp.nll)} vs ELBO ${f(el.nll)}; mode L_P ${lp.angleDeg.toFixed(1)}° vs ELBO ${el.angleDeg.toFixed(1)}° (truth 260°)`,
      values: { lpForwardKl: lp.forwardKl, elboForwardKl: el.forwardKl, lpNll: lp.nll, elboNll: el.nll },
      status,
      figures: ['figure-7'],
      ...(note ? { note } : {}),
    },
  ];
}
