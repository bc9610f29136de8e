import type { CheckedClaim } from '../../core/types.js';
import { scaleNote } from '../scale-note.js';
import { PAPER, PROFILE_SETTINGS } from './config.js';
import { byWidth, type E1Run } from './summary.js';

/** Steps per model of the default profile (sized to show every E1 claim): the scale of the quick notes. */
const DEFAULT_STEPS = PROFILE_SETTINGS.default.steps ?? PAPER.steps;

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
const g3 = (v: number) => (Number.isFinite(v) ? v.toPrecision(3) : String(v));

function decreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v < (values[i - 1] as number)) && values.every(Number.isFinite);
}

/** The claims of DESIGN §2 E1 / issue 4, each checked with a fixed threshold. */
export function e1Claims(runs: readonly E1Run[], exactNll: number): CheckedClaim[] {
  const sorted = byWidth(runs);
  const widths = sorted.map((r) => r.config.width);
  const target = sorted.find((r) => r.config.width === 1024);
  const claims: CheckedClaim[] = [];
  // the steps of these runs (the same at every width in a profile)
  const steps = Math.min(...sorted.map((r) => r.config.steps));
  const withNote = (c: CheckedClaim): CheckedClaim => {
    const note = scaleNote(c.status, steps, DEFAULT_STEPS, 'steps per model');
    return note ? { ...c, note } : c;
  };
  const testSize = (target ?? sorted[0])?.config.testSize;
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
    const test = `|final test NLL − exact NLL| ≤ 0.01 on the same ${testSize === undefined ? '' : `${testSize.toLocaleString('en')}-point `}test set`;
    if (!target) {
      claims.push(na(id, paper, test, ['figure-1']));
      continue;
    }
    const v = target.summary.finalTestNll[m];
    const gap = v - exactNll;
    claims.push(
      withNote({
        id,
        paper,
        test,
        measured: `${m} ${f4(v)} vs exact ${f4(exactNll)} after ${target.config.steps.toLocaleString('en')} steps: gap ${gap >= 0 ? '+' : ''}${f4(gap)}`,
        values: { finalTestNll: v, exactNll, gap },
        status: Math.abs(gap) <= 0.01 ? 'pass' : 'fail',
        figures: ['figure-1'],
      }),
    );
  }
  {
    const id = 'e1-1024-full-matches-linear';
    const paper = 'At width 1024 the network and its linearization have the same test NLL curve.';
    const test = '|full − linear| ≤ 0.005 at the final step';
    if (!target) claims.push(na(id, paper, test, ['figure-1']));
    else {
      const d = target.summary.finalTestNll.full - target.summary.finalTestNll.linear;
      claims.push(
        withNote({
          id,
          paper,
          test,
          measured: `full ${f4(target.summary.finalTestNll.full)}, linear ${f4(target.summary.finalTestNll.linear)}: difference ${f4(d)}`,
          values: { difference: d },
          status: Math.abs(d) <= 0.005 ? 'pass' : 'fail',
          figures: ['figure-1'],
        }),
      );
    }
  }
  const shrink = (
    id: string,
    what: string,
    key: 'jacobianDistance' | 'ntkDistance',
    fig: string,
  ): CheckedClaim => {
    const vals = sorted.map((r) => r.summary[key]);
    return withNote({
      id,
      paper: `The ${what} from initialization shrinks as the width grows.`,
      test: `last tracked value strictly decreasing over widths ${widths.join(' < ')}`,
      measured: sorted.map((r, i) => `W=${r.config.width}: ${g3(vals[i] as number)}`).join(', '),
      values: Object.fromEntries(sorted.map((r, i) => [String(r.config.width), vals[i] as number])),
      status: widths.length < 2 ? 'n/a' : decreasing(vals) ? 'pass' : 'fail',
      figures: [fig],
    });
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
    const last = sorted.map((r) => r.summary.ntkEig1);
    claims.push(
      withNote({
        id: 'e1-ntk-eigenvalues-shrink',
        paper: 'The eigenvalues of K_t − K_0 shrink as the width grows.',
        test: `last tracked mean |λ1| strictly decreasing over widths ${widths.join(' < ')}`,
        measured: sorted.map((r, i) => `W=${r.config.width}: ${g3(last[i] as number)}`).join(', '),
        values: Object.fromEntries(sorted.map((r, i) => [String(r.config.width), last[i] as number])),
        status: widths.length < 2 ? 'n/a' : decreasing(last) ? 'pass' : 'fail',
        figures: ['figure-a3-ntk-eigenvalues'],
      }),
    );
  }
  {
    const spec = sorted[0]!.summary.infiniteNtk;
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
