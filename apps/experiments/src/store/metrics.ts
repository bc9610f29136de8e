import { existsSync, readFileSync } from 'node:fs';
import { FileFormatError } from '@gcvi/runtime';

/** One metrics line. `kind` says which series it belongs to; `step` is the training step. */
export interface MetricRow {
  readonly kind: string;
  readonly step: number;
  readonly [key: string]: string | number | boolean | null;
}

export interface MetricsFile {
  readonly rows: MetricRow[];
  /** The last line was torn (a crash, a full disk or a power loss in the middle of an append). */
  readonly torn: boolean;
}

/**
 * Read a metrics file. A torn last line (no final newline, or not valid JSON) is reported, not
 * returned; any other bad line is a `FileFormatError` naming the file and line.
 */
export function readMetricsFile(file: string): MetricsFile {
  if (!existsSync(file)) return { rows: [], torn: false };
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  // `text` ends with '\n' when every append completed: the last element is then ''.
  const last = lines.pop() as string;
  const rows: MetricRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new FileFormatError(file, `line ${i + 1} is not valid JSON`);
    }
    if (!row || typeof row !== 'object' || typeof (row as MetricRow).kind !== 'string') {
      throw new FileFormatError(file, `line ${i + 1} is not a metrics row (needs 'kind' and 'step')`);
    }
    rows.push(row as MetricRow);
  }
  return { rows, torn: last.trim() !== '' };
}

export function metricsText(rows: readonly MetricRow[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}
