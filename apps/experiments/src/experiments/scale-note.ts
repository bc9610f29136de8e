/**
 * The word beside a claim that a profile is too small to check (the quick profile is a smoke test
 * of the pipeline, sized in seconds, not to reproduce the paper). It never changes a status: a FAIL
 * stays FAIL, with the note saying the runs were shorter than the profile sized to show the claim.
 */

const n = (v: number) => v.toLocaleString('en');

/**
 * Note for a FAIL from runs of `have` steps when the claim is sized for `need` (the default
 * profile's steps, read from its config): `undefined` unless the claim failed and `have < need`.
 */
export function scaleNote(
  status: 'pass' | 'fail' | 'n/a',
  have: number,
  need: number,
  unit = 'steps',
): string | undefined {
  if (status !== 'fail' || !(have < need)) return undefined;
  return `too short to show: ${n(have)} ${unit} < the ${n(need)} of the default profile, which is sized to check this claim`;
}
