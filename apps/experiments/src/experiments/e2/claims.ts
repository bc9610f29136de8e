/** E2's paper claims, checked against Table 1 and the modes of q(S | X). */

import type { CheckedClaim } from '../../core/types.js';
import { PARAMETERIZATIONS } from './family.js';
import { type E2Run, outcomes, successful } from './summary.js';
import { objectiveKey, type Table1Row, table1 } from './table.js';

function fmtShare(r: Table1Row): string {
  return `${r.inOrder}/${r.n} [${r.wilsonLow.toFixed(2)}, ${r.wilsonHigh.toFixed(2)}]`;
}

/** The paper's claims for E2, checked on this profile's runs. */
export function e2Claims(runs: readonly E2Run[]): CheckedClaim[] {
  const rows = table1(outcomes(runs));
  const row = (o: string, p: string) => rows.find((r) => r.objective === o && r.parameterization === p)!;
  const lp = PARAMETERIZATIONS.map((p) => row('forward-kl', p));
  const el = PARAMETERIZATIONS.map((p) => row('elbo', p));
  const enough = rows.every((r) => r.n >= 20);
  const values: Record<string, number> = {};
  for (const r of rows) values[`${objectiveKey(r.objective)}.${r.parameterization}`] = r.inOrderShare;
  const c1 = lp.every((r) => r.n > 0 && r.inOrderShare >= 0.9);
  const c2 = PARAMETERIZATIONS.every((_, i) => el[i]!.n > 0 && el[i]!.wilsonHigh < lp[i]!.wilsonLow);
  const ok = successful(runs);
  const dev = (o: string) => ok.filter((r) => r.objective === o).map((r) => Math.abs(r.modeS - 100));
  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length
      ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2
      : Number.NaN;
  };
  const lpDev = median(dev('forward-kl'));
  const elDev = median(dev('elbo'));
  const status = (pass: boolean) => (!enough ? 'n/a' : pass ? 'pass' : 'fail');
  const why = enough ? '' : ' (fewer than 20 replicates per cell in this profile: not checked)';
  return [
    {
      id: 'e2-lp-in-order',
      paper:
        'Table 1: L_P recovers the increasing order of the five centres (all replicates, both parameterizations).',
      test: 'L_P in increasing order in ≥ 90% of replicates, for natural and for mean.',
      measured: `L_P natural ${fmtShare(lp[1]!)}, mean ${fmtShare(lp[0]!)}${why}`,
      values,
      status: status(c1),
      figures: ['table-1'],
    },
    {
      id: 'e2-elbo-label-switches',
      paper: 'Table 1: the ELBO label-switches; far fewer replicates in increasing order than L_P.',
      test: "ELBO's 95% Wilson interval lies entirely below L_P's, for each parameterization.",
      measured: `ELBO natural ${fmtShare(el[1]!)}, mean ${fmtShare(el[0]!)}${why}`,
      values,
      status: status(c2),
      figures: ['table-1'],
    },
    {
      id: 'e2-shift-mode',
      paper:
        'Figure 2: the mode of q(S | X) piles up at the true shift 100 under L_P; under the ELBO it scatters.',
      test: 'median |mode(S) − 100| under L_P < 1 and smaller than under the ELBO.',
      measured: `median |mode(S) − 100|: L_P ${lpDev.toFixed(2)}, ELBO ${elDev.toFixed(2)}${why}`,
      values: { lpMedianAbsDev: lpDev, elboMedianAbsDev: elDev },
      status: status(lpDev < 1 && lpDev < elDev),
      figures: ['figure-2'],
    },
  ];
}
