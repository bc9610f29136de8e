import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, FileFormatError } from '@gcvi/runtime';

// seek-bzip (pure-JS bzip2 decoder, CommonJS, no type declarations): loaded through require with
// the one function used typed here, so packages that typecheck this source need no ambient module.
const Bunzip = createRequire(import.meta.url)('seek-bzip') as { decode(input: Uint8Array): Uint8Array };

import type { SbibmTaskName } from './task.js';

/**
 * sbibm's reference data for one task and observation, read from a folder laid out as sbibm's
 * `<task>/num_observation_<i>/{observation.csv, true_parameters.csv, reference_posterior_samples.csv.bz2}`.
 */
export interface SbibmReference {
  readonly task: SbibmTaskName;
  readonly observation: number;
  /** The observed x_o (float64). */
  readonly x: Float64Array;
  /** The θ that generated x_o. */
  readonly trueTheta: Float64Array;
  /**
   * Reference posterior samples, rows flat `[rows · dim]` (float64); null when the folder has none
   * (gaussian_linear: its posterior is known in closed form).
   */
  readonly samples: { readonly rows: number; readonly dim: number; readonly values: Float64Array } | null;
}

const DIMS: Record<SbibmTaskName, { theta: number; x: number }> = {
  gaussian_linear: { theta: 10, x: 10 },
  two_moons: { theta: 2, x: 2 },
  slcp: { theta: 5, x: 8 },
};

/**
 * Where the sbibm reference data live: `$GCVI_SBIBM_DIR` if set, else the first
 * `shared/fixtures/sbibm` found walking up from `from` (default: the working directory), which
 * is `../shared/fixtures/sbibm` beside a checkout of the repository. null if neither exists.
 */
export function findSbibmData(from: string = process.cwd(), env = process.env): string | null {
  const fromEnv = env.GCVI_SBIBM_DIR;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : null;
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'shared', 'fixtures', 'sbibm');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Parse a CSV of numbers with one header line; checks the column count. */
export function parseNumberCsv(
  text: string,
  file: string,
  columns: number,
): { rows: number; values: Float64Array } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length < 2) throw new FileFormatError(file, 'expected a header line and at least one row');
  const header = (lines[0] as string).split(',');
  if (header.length !== columns) {
    throw new FileFormatError(file, `expected ${columns} columns, header has ${header.length}`);
  }
  const rows = lines.length - 1;
  const values = new Float64Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const cells = (lines[r + 1] as string).split(',');
    if (cells.length !== columns) {
      throw new FileFormatError(file, `line ${r + 2}: expected ${columns} values, got ${cells.length}`);
    }
    for (let c = 0; c < columns; c++) {
      const v = Number(cells[c]);
      if (!Number.isFinite(v) || (cells[c] as string).trim() === '') {
        throw new FileFormatError(file, `line ${r + 2}, column ${c + 1}: not a finite number: '${cells[c]}'`);
      }
      values[r * columns + c] = v;
    }
  }
  return { rows, values };
}

function readText(file: string): string {
  if (!existsSync(file)) throw new FileFormatError(file, 'file not found');
  return readFileSync(file, 'utf8');
}

/** Decompress a bzip2 file (seek-bzip, pure JS) to text. */
export function readBzip2Text(file: string): string {
  if (!existsSync(file)) throw new FileFormatError(file, 'file not found');
  try {
    return Buffer.from(Bunzip.decode(readFileSync(file))).toString('utf8');
  } catch (e) {
    throw new FileFormatError(
      file,
      `not a valid bzip2 stream (${e instanceof Error ? e.message : String(e)})`,
      {
        cause: e,
      },
    );
  }
}

/** Load observation `observation` (1-based) of `task` from the sbibm data folder `root`. */
export function loadSbibmReference(task: SbibmTaskName, observation: number, root: string): SbibmReference {
  const dims = DIMS[task];
  if (!dims)
    throw new ConfigError(
      'task',
      `unknown sbibm task '${String(task)}' (known: ${Object.keys(DIMS).join(', ')})`,
    );
  if (!Number.isInteger(observation) || observation < 1) {
    throw new ConfigError('observation', `must be an integer ≥ 1, got ${observation}`);
  }
  const dir = join(root, task, `num_observation_${observation}`);
  if (!existsSync(dir))
    throw new FileFormatError(dir, `no such folder (task ${task}, observation ${observation})`);
  const one = (name: string, columns: number): Float64Array => {
    const file = join(dir, name);
    const t = parseNumberCsv(readText(file), file, columns);
    if (t.rows !== 1) throw new FileFormatError(file, `expected one row, got ${t.rows}`);
    return t.values;
  };
  const x = one('observation.csv', dims.x);
  const trueTheta = one('true_parameters.csv', dims.theta);
  const samplesFile = join(dir, 'reference_posterior_samples.csv.bz2');
  let samples: SbibmReference['samples'] = null;
  if (existsSync(samplesFile)) {
    const t = parseNumberCsv(readBzip2Text(samplesFile), samplesFile, dims.theta);
    samples = { rows: t.rows, dim: dims.theta, values: t.values };
  }
  return { task, observation, x, trueTheta, samples };
}
