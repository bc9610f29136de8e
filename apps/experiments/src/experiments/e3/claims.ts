import type { CheckedClaim } from '../../core/types.js';
import { scaleNote } from '../scale-note.js';
import { PAPER, PROFILE_SETTINGS } from './config.js';
import { angleDiffDeg, byInit, distinctEndpoints, type E3Run } from './summary.js';

/** Every L_P run must end this close to 260° (the paper's Figures 5 and 6 show all 12 within a few degrees). */
export const E3_LP_TOLERANCE_DEG = 5;

export function e3Claims(runs: readonly E3Run[]): CheckedClaim[] {
  const lp = byInit(runs, 'forwardKl');
  const iw = byInit(runs, 'iwbo');
  const lpErr = lp.map((r) => angleDiffDeg(r.summary.finalAngleDeg, 260));
  const maxErr = Math.max(...lpErr.map(Math.abs));
  const iwEnd = iw.map((r) => r.summary.finalAngleDeg);
  const clusters = distinctEndpoints(iwEnd);
  const iwNear = iwEnd.filter((a) => Math.abs(angleDiffDeg(a, 260)) <= 10).length;
  const fmt = (v: number) => v.toFixed(1);
  const averaged = (rs: readonly E3Run[]) => rs.some((r) => r.summary.lastIterateAngleDeg !== undefined);
  const withLast = (r: E3Run) =>
    r.summary.lastIterateAngleDeg === undefined ? '' : ` (${fmt(r.summary.lastIterateAngleDeg)}°)`;
  // How much each L_P run's angle still moves between evaluations over its last third of steps:
  // the last iterate of a run whose angle wobbles by sd s lands anywhere in about ±2s.
  const wobble = lp.map((r) => {
    const late = r.metrics
      .filter((m) => m.kind === 'angle' && Number(m.step) >= (2 * r.config.steps) / 3)
      .map((m) => angleDiffDeg(Number(m.angleDeg), 260));
    if (late.length < 2) return Number.NaN;
    const mean = late.reduce((a, b) => a + b, 0) / late.length;
    return Math.sqrt(late.reduce((a, b) => a + (b - mean) ** 2, 0) / (late.length - 1));
  });
  const finiteWobble = wobble.filter(Number.isFinite);
  const maxWobble = finiteWobble.length ? Math.max(...finiteWobble) : Number.NaN;
  const lpStatus = lp.length === 0 ? 'n/a' : maxErr <= E3_LP_TOLERANCE_DEG ? 'pass' : 'fail';
  // L_P steps of these runs vs the default profile's (sized to show the claim)
  const lpNote = scaleNote(
    lpStatus,
    Math.min(...lp.map((r) => r.config.steps)),
    PROFILE_SETTINGS.default.lp?.steps ?? PAPER.lp.steps,
    'L_P steps',
  );
  const c0 = lp[0]?.config;
  const noiseNote =
    lpStatus === 'fail' &&
    !lpNote &&
    !averaged(lp) &&
    c0 &&
    Number.isFinite(maxWobble) &&
    maxErr <= E3_LP_TOLERANCE_DEG + 2 * maxWobble
      ? `the worst end angle is within two late-run sds (${fmt(maxWobble)}°) of the tolerance: at ${c0.setsPerStep ?? 1} × ${c0.setImages} images per step and ${c0.steps} steps the last iterate still moves by about that much between evaluations (the paper: 1 × ${PAPER.setImages.toLocaleString('en-US')} images, ${PAPER.lp.steps.toLocaleString('en-US')} steps)`
      : undefined;
  // Where the claim was seen to show (studies/e3-set-size.md, rule fixed before the run): only
  // stated for failing runs of the default profile's L_P configuration, which the study compares.
  const dflt = PROFILE_SETTINGS.default;
  const studyNote =
    lpStatus === 'fail' &&
    c0 &&
    c0.setImages === dflt.setImages &&
    (c0.setsPerStep ?? 1) === dflt.setsPerStep &&
    c0.steps === dflt.lp?.steps
      ? `the study studies/e3-set-size.md ran the offset 330° at the paper's set size (1 × 1,000 images per step) with the default's 600 steps and rate schedule: it ended at 259.6° (within ±${E3_LP_TOLERANCE_DEG}°; it ends at 253.9° at 8 × 64), but its angle over the last third of the steps swung between 246.6° and 275.8° (sd 8.8°): one simulated angle per step makes every step noisy, which the paper's 100,000 steps at rate 1e-4 average out. Twelve offsets at that set size take about 12 × 6 min of one core here, over the default budget`
      : undefined;
  const note = [lpNote ?? noiseNote, studyNote].filter((x) => x !== undefined).join('; ') || undefined;
  return [
    {
      id: 'e3-lp-all-offsets',
      paper: 'L_P from all 12 initializations ends at the true angle 260° (Figures 5, 6).',
      test: `every L_P run ends within ±${E3_LP_TOLERANCE_DEG}° of 260°`,
      measured: `L_P end angles${averaged(lp) ? " (of the mean of each run's last third of iterates; the last iterate's in brackets)" : ''} ${lp.map((r) => `${r.config.initDeg}°→${fmt(r.summary.finalAngleDeg)}°${withLast(r)}`).join(', ')}; max |error| ${maxErr.toFixed(2)}°${Number.isFinite(maxWobble) ? `; the angle's sd between evaluations over each run's last third of steps is at most ${fmt(maxWobble)}°` : ''}`,
      values: { maxAbsErrorDeg: maxErr, runs: lp.length, maxLateSdDeg: maxWobble },
      status: lpStatus,
      figures: ['figure-5', 'figure-6'],
      ...(note ? { note } : {}),
    },
    {
      id: 'e3-iwbo-local-optima',
      paper:
        'IWBO with θ as a model parameter ends in different local optima depending on its initial angle (Figure 4).',
      test: 'IWBO end angles fall into ≥ 3 clusters (10° apart) and not all runs end within ±10° of 260°',
      measured: `IWBO end angles${averaged(iw) ? ' (tail means; last iterates in brackets)' : ''} ${iw.map((r) => `${r.config.initDeg}°→${fmt(r.summary.finalAngleDeg)}°${withLast(r)}`).join(', ')}; ${clusters} clusters; ${iwNear}/${iw.length} within ±10° of 260°`,
      values: { clusters, nearTruth: iwNear, runs: iw.length },
      status: iw.length === 0 ? 'n/a' : clusters >= 3 && iwNear < iw.length ? 'pass' : 'fail',
      figures: ['figure-4'],
    },
  ];
}
