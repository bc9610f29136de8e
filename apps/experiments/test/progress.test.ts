import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunTask } from '../src/core/runner.js';
import { ProgressReporter } from '../src/exec/progress.js';

// The overall progress line of `--progress lines`: its rate and ETA, on a clock the test moves.

function task(id: string): RunTask {
  return { experiment: 'e1', id, config: {}, storeRoot: '/nowhere', label: `run ${id}` };
}

function reporter(totalSteps: number, costs?: Map<string, number>) {
  const lines: string[] = [];
  const out = {
    write: (s: string) => {
      lines.push(s);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const r = new ProgressReporter(totalSteps, 'lines', out, 0, costs);
  const overall = () => {
    const l = lines.filter((x) => x.startsWith('overall:')).at(-1) ?? '';
    const m = /(\d+)\/(\d+) steps, (\d+)\/s, ETA (\S+)/.exec(l);
    if (!m) throw new Error(`no overall line in ${JSON.stringify(lines)}`);
    return { steps: Number(m[1]), rate: Number(m[3]), eta: m[4] };
  };
  return { r, overall };
}

describe('ProgressReporter overall line', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-02T00:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('weighs the ETA by run cost, not by step count', () => {
    // Two runs of 100 steps each; the second costs 99 times the first (an E1 width-4096 run
    // beside a width-64 one). The cheap one finishes in 10 s: by steps the sweep would look half
    // done (ETA 10 s), by cost 1 % done (ETA 990 s).
    const { r, overall } = reporter(
      200,
      new Map([
        ['a', 1],
        ['b', 99],
      ]),
    );
    const a = task('a');
    const b = task('b');
    r.start(a);
    r.start(b);
    vi.advanceTimersByTime(10_000);
    r.update(a, { step: 100, total: 100 });
    r.finish({ task: a, ok: true, mode: 'fresh', seconds: 10 });
    r.update(b, { step: 0, total: 100 });
    expect(overall().eta).toBe('16m30s');
  });

  it('keeps a resumed run’s checkpointed steps out of the rate and the ETA', () => {
    // A run found at step 900 of 1000 by a restarted coordinator makes 50 steps in 10 s: 5 steps/s,
    // 50 left, so ETA 10 s — not 95 steps/s from counting the 900 it found, nor an ETA of 0.5 s.
    const { r, overall } = reporter(1000, new Map([['a', 1000]]));
    const a = task('a');
    r.start(a);
    r.update(a, { step: 900, total: 1000, resumed: true });
    vi.advanceTimersByTime(10_000);
    r.update(a, { step: 950, total: 1000, resumed: true });
    const o = overall();
    expect(o.steps).toBe(950);
    expect(o.rate).toBe(5);
    expect(o.eta).toBe('10s');
  });

  it('counts a fresh run’s first report as done here, even when it comes at the run’s end', () => {
    const { r, overall } = reporter(200);
    const a = task('a');
    const b = task('b');
    r.start(a);
    r.start(b);
    vi.advanceTimersByTime(10_000);
    r.update(a, { step: 100, total: 100 });
    r.update(b, { step: 0, total: 100 });
    const o = overall();
    expect(o.rate).toBe(10);
    expect(o.eta).toBe('10s');
  });

  it('does the same without run costs (by steps)', () => {
    const { r, overall } = reporter(2000);
    const a = task('a');
    const b = task('b');
    r.start(a);
    r.start(b);
    r.update(a, { step: 600, total: 1000, resumed: true });
    vi.advanceTimersByTime(20_000);
    r.update(a, { step: 700, total: 1000, resumed: true });
    r.update(b, { step: 100, total: 1000 });
    // done here 200 of the 1400 left at start, in 20 s: 10 steps/s, 1200 left → 2 min
    const o = overall();
    expect(o.rate).toBe(10);
    expect(o.eta).toBe('2m00s');
  });
});
