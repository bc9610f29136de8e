/** E2's paper claims, checked against Table 1 and the modes of q(S | X). */

import type { CheckedClaim } from '../../core/types.js';
import { PARAMETERIZATIONS } from './family.js';
import { type E2Objective, OBJECTIVES } from './schema.js';
import { quantile } from './stats.js';
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
  // Figure 2 statistic, fixed before the study runs (studies/e2-figure-2.md): the share of
  // replicates whose mode of q(S | X) is within ±2 of 100, per objective and parameterization.
  const ok = successful(runs);
  const modes = (o: E2Objective, p: string) =>
    ok.filter((r) => r.objective === o && r.parameterization === p).map((r) => r.modeS);
  const within2 = (v: number[]) =>
    v.length ? v.filter((m) => Math.abs(m - 100) <= 2).length / v.length : Number.NaN;
  const iqr = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length ? quantile(s, 0.75) - quantile(s, 0.25) : Number.NaN;
  };
  const shift: Record<string, number> = {};
  for (const o of OBJECTIVES) {
    for (const p of PARAMETERIZATIONS) {
      shift[`${objectiveKey(o)}.${p}.within2`] = within2(modes(o, p));
      shift[`${objectiveKey(o)}.${p}.iqr`] = iqr(modes(o, p));
    }
  }
  const w = (o: E2Objective, p: string) => shift[`${objectiveKey(o)}.${p}.within2`] as number;
  const q = (o: E2Objective, p: string) => shift[`${objectiveKey(o)}.${p}.iqr`] as number;
  const c3 = PARAMETERIZATIONS.every((p) => w('forward-kl', p) >= 0.8 && w('elbo', p) <= 0.5);
  const cell = (o: E2Objective, p: string) => `${(100 * w(o, p)).toFixed(0)}% (IQR ${q(o, p).toFixed(2)})`;
  // replicates whose q(S | X) never left its prior mean 0 (the natural parameterization's ELBO)
  const nearPrior = (o: E2Objective, p: string) => modes(o, p).filter((m) => Math.abs(m) <= 5).length;
  const stuck = OBJECTIVES.flatMap((o) =>
    PARAMETERIZATIONS.filter((p) => nearPrior(o, p) > 0).map(
      (p) => `${o === 'elbo' ? 'ELBO' : 'L_P'} ${p} ${nearPrior(o, p)}/${modes(o, p).length}`,
    ),
  );
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
      test: 'share of replicates with |mode(S) − 100| ≤ 2: L_P ≥ 80% and ELBO ≤ 50%, for natural and for mean.',
      measured: `within ±2 of 100 (IQR of the modes): L_P natural ${cell('forward-kl', 'natural')}, mean ${cell('forward-kl', 'mean')}; ELBO natural ${cell('elbo', 'natural')}, mean ${cell('elbo', 'mean')}${stuck.length ? `; mode of S within 5 of its prior mean 0: ${stuck.join(', ')}` : ''}${why}`,
      values: shift,
      status: status(c3),
      ...(enough && !c3
        ? {
            note: 'not shown at this scale: label switching alone does not move S (the best S is the mean of the fitted centres in any order), and L_P is not yet precise here. The study studies/e2-figure-2.md (8 replicates per cell) found the rule unmet at 100 points and 1,000 steps (ELBO mean 6/8 within ±2, ELBO natural 4/8 collapsed near 0, L_P natural 4/8). At 100 points and 3,000 steps it holds for the natural parameterization (L_P 7/8 within ±2, ELBO 3/8, its other 5 replicates either collapsed near S = 0 (4) or off by 3.2 (1)), but not for the mean one (L_P 8/8, ELBO 7/8: the labels switch in 8/8 and S stays at 100). 200 points per set at 1,000 steps widen the spread of the ELBO under the mean parameterization (5/8 within ±2, IQR 2.7) but leave L_P natural at 5/8, so the rule is not met there either. That scale (100 points, 3,000 steps) costs about 3.8 h of one core for the default seeds, over the default budget',
          }
        : {}),
      figures: ['figure-2'],
    },
  ];
}
