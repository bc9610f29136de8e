import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A profile file `tiny.json` in `dir`: the quick profile with E1 at the given widths and 40 steps
 * (seconds per run), for the executor tests. Returns its path.
 */
export function writeTinyE1Profile(dir: string, widths: readonly number[]): string {
  const path = join(dir, 'tiny.json');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'tiny',
      base: 'quick',
      e1: {
        widths,
        steps: 40,
        evalEvery: 10,
        trackEvery: 20,
        testSize: 50,
        trackSize: 5,
        checkpointEvery: 20,
      },
    }),
  );
  return path;
}
