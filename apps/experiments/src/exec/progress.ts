import cliProgress from 'cli-progress';
import type { RunOutcome, RunTask } from '../core/runner.js';
import type { RunProgress } from '../core/types.js';
import type { ExecutorEvents } from './types.js';

export type ProgressMode = 'auto' | 'bars' | 'lines' | 'none';

interface Track {
  label: string;
  step: number;
  total: number;
  loss?: number;
  phase?: string;
  t0: number;
  step0: number;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${m % 60}m`;
}

function rateOf(t: Track, now: number): number {
  const dt = (now - t.t0) / 1000;
  return dt > 0 ? (t.step - t.step0) / dt : 0;
}

/**
 * Progress of a set of runs: with a TTY, one `cli-progress` bar per active run plus an overall bar
 * (steps, rate, ETA, current loss); otherwise plain lines every `intervalMs` (and at each start/end).
 */
export class ProgressReporter {
  private readonly tracks = new Map<string, Track>();
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private multi?: cliProgress.MultiBar;
  private overall?: cliProgress.SingleBar;
  private readonly mode: Exclude<ProgressMode, 'auto'>;
  private lastLine = 0;
  private readonly t0 = Date.now();
  private doneSteps = 0;

  private doneCost = 0;
  private readonly totalCost: number;
  /** Work already done before this process saw it (resumed runs' checkpoints): not part of the rate. */
  private priorSteps = 0;
  private priorCost = 0;

  /**
   * `costs` (run id → the run's estimated cost, `PlannedRun.cost`): the overall ETA weighs each
   * run's progress by its cost, not its step count (runs' steps differ in cost by orders of
   * magnitude: an E1 width-4096 step, an E3 step over 1000 images). Without it, steps count alike.
   */
  constructor(
    private readonly totalSteps: number,
    mode: ProgressMode = 'auto',
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
    private readonly intervalMs = 10_000,
    private readonly costs?: ReadonlyMap<string, number>,
  ) {
    this.totalCost = costs ? [...costs.values()].reduce((a, b) => a + b, 0) : 0;
    this.mode = mode === 'auto' ? (out.isTTY ? 'bars' : 'lines') : mode;
    if (this.mode === 'bars') {
      this.multi = new cliProgress.MultiBar(
        {
          stream: out as NodeJS.WritableStream,
          clearOnComplete: false,
          hideCursor: true,
          format:
            '{label} |{bar}| {percentage}% {value}/{total} steps | {rate}/s | ETA {etaText} | loss {loss}',
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      this.overall = this.multi.create(Math.max(1, totalSteps), 0, {
        label: 'overall'.padEnd(22),
        rate: '0',
        etaText: '?',
        loss: '-',
      });
    }
  }

  /** Events to pass to an executor. */
  events(): ExecutorEvents {
    return {
      onStart: (task) => this.start(task),
      onProgress: (task, p) => this.update(task, p),
      onLog: (task, m) => this.log(`[${task.label}] ${m}`),
      onFinish: (o) => this.finish(o),
    };
  }

  start(task: RunTask): void {
    const t: Track = { label: task.label, step: 0, total: 1, t0: Date.now(), step0: 0 };
    this.tracks.set(task.id, t);
    if (this.multi) {
      this.bars.set(
        task.id,
        this.multi.create(1, 0, {
          label: task.label.slice(0, 22).padEnd(22),
          rate: '0',
          etaText: '?',
          loss: '-',
        }),
      );
    } else if (this.mode === 'lines') this.write(`start ${task.label} (${task.id})`);
  }

  update(task: RunTask, p: RunProgress): void {
    const t = this.tracks.get(task.id);
    if (!t) return;
    if (p.resumed === true && t.step === 0 && p.step > 0 && t.total === 1) {
      // first report: a resumed run starts at its checkpoint; measure the rate from here, and
      // keep the steps it already had out of the overall rate and ETA
      t.step0 = p.step;
      t.t0 = Date.now();
      this.priorSteps += p.step;
      const cost = this.costs?.get(task.id);
      if (cost !== undefined && p.total > 0) this.priorCost += cost * Math.min(1, p.step / p.total);
    }
    t.step = p.step;
    t.total = p.total;
    t.loss = p.loss;
    t.phase = p.phase;
    const now = Date.now();
    const rate = rateOf(t, now);
    const eta = rate > 0 ? (t.total - t.step) / rate : Number.NaN;
    const loss = p.loss === undefined ? '-' : p.loss.toFixed(4);
    const bar = this.bars.get(task.id);
    if (bar) {
      bar.setTotal(t.total);
      bar.update(t.step, { rate: rate.toFixed(0), etaText: fmtSeconds(eta), loss });
      this.updateOverall(now);
    } else if (this.mode === 'lines' && now - this.lastLine >= this.intervalMs) {
      this.lastLine = now;
      for (const tr of this.tracks.values()) {
        const r = rateOf(tr, now);
        this.write(
          `${tr.label}${tr.phase ? ` [${tr.phase}]` : ''}: ${tr.step}/${tr.total} steps, ${r.toFixed(0)}/s, ` +
            `ETA ${fmtSeconds(r > 0 ? (tr.total - tr.step) / r : Number.NaN)}, loss ${tr.loss === undefined ? '-' : tr.loss.toFixed(4)}`,
        );
      }
      this.write(this.overallText(now));
    }
  }

  private overallSteps(): number {
    let s = this.doneSteps;
    for (const t of this.tracks.values()) s += t.step;
    return s;
  }

  /**
   * Fraction of the work left at this process's start that it has done since: cost-weighted when
   * run costs are known, else by steps. Checkpointed work of resumed runs is neither done here
   * nor left, so a restarted sweep's ETA is not fooled by the steps it finds already done.
   */
  private fractionDone(): number {
    if (!this.costs || this.totalCost <= 0) {
      const left = this.totalSteps - this.priorSteps;
      return left > 0 ? (this.overallSteps() - this.priorSteps) / left : 0;
    }
    let c = this.doneCost;
    for (const [id, t] of this.tracks)
      c += (this.costs.get(id) ?? 0) * (t.total > 0 ? Math.min(1, t.step / t.total) : 0);
    const left = this.totalCost - this.priorCost;
    return left > 0 ? (c - this.priorCost) / left : 0;
  }

  /** Steps per second made by this process (resumed runs count from their checkpoints). */
  private overallRate(now: number): number {
    return (this.overallSteps() - this.priorSteps) / Math.max(1e-3, (now - this.t0) / 1000);
  }

  /** Seconds left: elapsed time × (work left / work done). */
  private etaSeconds(now: number): number {
    const f = this.fractionDone();
    const elapsed = (now - this.t0) / 1000;
    return f > 0 ? (elapsed * (1 - f)) / f : Number.NaN;
  }

  private overallText(now: number): string {
    const steps = this.overallSteps();
    const rate = this.overallRate(now);
    return `overall: ${steps}/${this.totalSteps} steps, ${rate.toFixed(0)}/s, ETA ${fmtSeconds(this.etaSeconds(now))}`;
  }

  private updateOverall(now: number): void {
    if (!this.overall) return;
    const steps = this.overallSteps();
    const rate = this.overallRate(now);
    this.overall.update(Math.min(steps, this.totalSteps), {
      rate: rate.toFixed(0),
      etaText: fmtSeconds(this.etaSeconds(now)),
      loss: '-',
    });
  }

  finish(o: RunOutcome): void {
    const t = this.tracks.get(o.task.id);
    this.tracks.delete(o.task.id);
    if (t) this.doneSteps += t.total > 1 ? t.total : t.step;
    if (o.mode !== 'busy') this.doneCost += this.costs?.get(o.task.id) ?? 0;
    const bar = this.bars.get(o.task.id);
    if (bar && this.multi) {
      this.multi.remove(bar);
      this.bars.delete(o.task.id);
      this.updateOverall(Date.now());
    }
    const what =
      o.mode === 'busy'
        ? 'claimed by another process'
        : o.ok
          ? `${o.mode} in ${fmtSeconds(o.seconds)}`
          : 'FAILED';
    this.log(`done ${o.task.label} (${o.task.id}): ${what}`);
  }

  log(message: string): void {
    if (this.mode === 'none') return;
    if (this.multi) this.multi.log(`${message}\n`);
    else this.write(message);
  }

  private write(line: string): void {
    this.out.write(`${line}\n`);
  }

  stop(): void {
    this.multi?.stop();
  }
}
