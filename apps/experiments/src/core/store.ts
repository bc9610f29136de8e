import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '@gcvi/runtime';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { decodeTyped, encodeTyped } from './codec.js';
import { canonicalJson } from './hash.js';

/** One metrics line. `kind` says which series it belongs to; `step` is the training step. */
export interface MetricRow {
  readonly kind: string;
  readonly step: number;
  readonly [key: string]: string | number | boolean | null;
}

/** `done`: summary.json exists; `partial`: started (config.json) but not finished; `new`: nothing on disk. */
export type RunStatus = 'done' | 'partial' | 'new';

export const FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  checkpoint: 'checkpoint.json',
} as const;

interface CheckpointEnvelope {
  readonly version: 1;
  /** Metrics lines written when the checkpoint was taken; later lines are dropped on resume. */
  readonly metricsRows: number;
  readonly savedAt: string;
  readonly state: unknown;
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(file, `is not valid JSON (${(e as Error).message})`);
  }
}

/** Read a metrics file; a torn last line (crash mid-append) is ignored, any other bad line is an error. */
export function readMetricsFile(file: string): MetricRow[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const rows: MetricRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as MetricRow);
    } catch {
      if (i === lines.length - 1) break; // torn final line, no newline yet
      throw new FileFormatError(file, `line ${i + 1} is not valid JSON`);
    }
  }
  return rows;
}

/**
 * The files of one run: `<root>/runs/<experiment>/<id>/`. Every whole-file write is atomic
 * (temp + rename); metrics are appended line by line and cut back to the last checkpoint on resume,
 * so a resumed run's metrics are exactly those of an uninterrupted one.
 */
export class RunHandle {
  readonly dir: string;
  private rows: number;

  constructor(
    readonly experiment: string,
    readonly id: string,
    dir: string,
  ) {
    this.dir = dir;
    this.rows = readMetricsFile(join(dir, FILES.metrics)).length;
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  /** Number of metric rows on disk. */
  get metricsRows(): number {
    return this.rows;
  }

  appendMetrics(rows: readonly MetricRow[]): void {
    if (rows.length === 0) return;
    appendFileSync(this.file(FILES.metrics), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    this.rows += rows.length;
  }

  readMetrics(): MetricRow[] {
    return readMetricsFile(this.file(FILES.metrics));
  }

  /** Save a checkpoint (JSON; typed arrays stored exactly as base64) together with the metrics position. */
  writeCheckpoint(state: unknown): void {
    const env: CheckpointEnvelope = {
      version: 1,
      metricsRows: this.rows,
      savedAt: new Date().toISOString(),
      state,
    };
    writeFileAtomic(this.file(FILES.checkpoint), encodeTyped(env));
  }

  /**
   * The last checkpoint's state, or undefined if there is none. Metrics written after that
   * checkpoint are removed (atomically), so the run can continue from it.
   */
  resumeFromCheckpoint<T>(): T | undefined {
    const file = this.file(FILES.checkpoint);
    if (!existsSync(file)) {
      if (this.rows > 0) this.truncateMetrics(0);
      return undefined;
    }
    let env: CheckpointEnvelope;
    try {
      env = decodeTyped(readFileSync(file, 'utf8')) as CheckpointEnvelope;
    } catch (e) {
      throw new FileFormatError(
        file,
        `cannot be read (${(e as Error).message}); delete it to restart the run`,
      );
    }
    if (env?.version !== 1 || typeof env.metricsRows !== 'number') {
      throw new FileFormatError(file, 'is not a gcvi checkpoint (version 1)');
    }
    this.truncateMetrics(env.metricsRows);
    return env.state as T;
  }

  private truncateMetrics(keep: number): void {
    this.rewriteMetrics(this.readMetrics().slice(0, keep));
  }

  /**
   * Keep only the metric rows for which `keep` is true (atomic rewrite). For runs that checkpoint
   * through another mechanism (e.g. `fit`'s own checkpoint file): drop the rows written after the
   * step the run will resume from.
   */
  retainMetrics(keep: (row: MetricRow) => boolean): number {
    const all = this.readMetrics();
    const rows = all.filter(keep);
    if (rows.length !== all.length) this.rewriteMetrics(rows);
    return all.length - rows.length;
  }

  private rewriteMetrics(rows: readonly MetricRow[]): void {
    writeFileAtomic(this.file(FILES.metrics), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    this.rows = rows.length;
  }

  writeSummary(summary: unknown): void {
    writeJsonAtomic(this.file(FILES.summary), summary);
  }
}

/** A finished run as read back from the store. */
export interface LoadedRun<C = unknown, S = Record<string, unknown>> {
  readonly experiment: string;
  readonly id: string;
  readonly dir: string;
  readonly config: C;
  /** What the experiment's `run` returned. */
  readonly summary: S;
  readonly meta: RunMeta;
  readonly metrics: MetricRow[];
}

/** Written by the runner beside the experiment's own summary. */
export interface RunMeta {
  readonly finishedAt: string;
  /** Seconds of this (last) session of the run; a resumed run counts only the time after resuming. */
  readonly wallSeconds: number;
  readonly resumed: boolean;
  readonly backend: string;
  readonly pid: number;
}

/** Layout of a run's `summary.json`. */
export interface RunSummaryFile<S = unknown> {
  readonly experiment: string;
  readonly id: string;
  readonly meta: RunMeta;
  readonly result: S;
}

/**
 * Results of one profile: `<root>/runs/<experiment>/<id>/{config.json, metrics.jsonl,
 * checkpoint.json, summary.json}`. Several processes (or machines sharing the folder) can work on
 * different runs at once; a run's directory is only ever written by the process running it.
 */
export class ResultsStore {
  constructor(readonly root: string) {}

  runDir(experiment: string, id: string): string {
    return join(this.root, 'runs', experiment, id);
  }

  status(experiment: string, id: string): RunStatus {
    const dir = this.runDir(experiment, id);
    if (existsSync(join(dir, FILES.summary))) return 'done';
    if (existsSync(join(dir, FILES.config))) return 'partial';
    return 'new';
  }

  /**
   * Open a run for writing. Writes `config.json` the first time; if it exists it must hold the same
   * config (otherwise the directory belongs to something else and we refuse to touch it).
   */
  open(experiment: string, id: string, config: unknown): RunHandle {
    const dir = this.runDir(experiment, id);
    mkdirSync(dir, { recursive: true });
    const cfgFile = join(dir, FILES.config);
    if (existsSync(cfgFile)) {
      const onDisk = readJson(cfgFile) as { config?: unknown };
      if (canonicalJson(onDisk.config) !== canonicalJson(config)) {
        throw new FileFormatError(cfgFile, `holds a different config than run ${id}; remove the directory`);
      }
    } else {
      writeJsonAtomic(cfgFile, { experiment, id, config });
    }
    return new RunHandle(experiment, id, dir);
  }

  /** Delete a run's directory (used by --force). */
  remove(experiment: string, id: string): void {
    rmSync(this.runDir(experiment, id), { recursive: true, force: true });
  }

  load<C = unknown, S = Record<string, unknown>>(experiment: string, id: string): LoadedRun<C, S> {
    const dir = this.runDir(experiment, id);
    const summaryFile = join(dir, FILES.summary);
    if (!existsSync(summaryFile))
      throw new FileFormatError(summaryFile, 'is missing: the run has not finished');
    const cfg = readJson(join(dir, FILES.config)) as { config: C };
    const sum = readJson(summaryFile) as RunSummaryFile<S>;
    if (!sum || typeof sum !== 'object' || !('result' in sum) || !('meta' in sum)) {
      throw new FileFormatError(summaryFile, "is not a run summary (needs 'meta' and 'result')");
    }
    return {
      experiment,
      id,
      dir,
      config: cfg.config,
      summary: sum.result,
      meta: sum.meta,
      metrics: readMetricsFile(join(dir, FILES.metrics)),
    };
  }

  /** Ids of the runs of an experiment present on disk. */
  list(experiment: string): string[] {
    const dir = join(this.root, 'runs', experiment);
    return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
  }
}
