/** Summary of per-step wall times in milliseconds. */
export interface Timing {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
  readonly steps: number;
}

/** Same percentile convention as python/e1_step.py: sorted[floor(q · n)]. */
export function summarize(times: readonly number[]): Timing {
  if (times.length === 0) throw new Error('summarize: no samples');
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { medianMs: at(0.5), p10Ms: at(0.1), p90Ms: at(0.9), steps: s.length };
}

/** Run `warmup` untimed steps, then time `steps` steps one by one. `step(n)` gets the step index. */
export function timeSteps(step: (n: number) => unknown, warmup: number, steps: number): Timing {
  for (let n = 0; n < warmup; n++) step(n);
  const times: number[] = [];
  for (let n = warmup; n < warmup + steps; n++) {
    const t0 = performance.now();
    step(n);
    times.push(performance.now() - t0);
  }
  return summarize(times);
}

export function median(xs: readonly number[]): number {
  return summarize(xs).medianMs;
}

/** A GitHub-flavoured markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
