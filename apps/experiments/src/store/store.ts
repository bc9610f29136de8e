import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '@gcvi/runtime';
import type { z } from 'zod';
import { canonicalJson, runId } from '../core/hash.js';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { Claim, type ClaimInfo, type ClaimOptions, inspectClaim } from './claim.js';
import { type MetricRow, metricsText, readMetricsFile } from './metrics.js';

export type { MetricRow };

/** `done`: summary.json exists; `partial`: started (config.json) but not finished; `new`: nothing on disk. */
export type RunStatus = 'done' | 'partial' | 'new';

export const FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  /** When, where and how long: everything about a run that is not a function of its config. */
  meta: 'run-meta.json',
} as const;

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FileFormatError(file, `cannot be read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(file, `is not valid JSON (${(e as Error).message})`);
  }
}

/** Parse `value` (read from `file`) with `schema`; the first issue names the file and the field. */
export function parseFileWithSchema<T>(
  schema: z.ZodType<T>,
  value: unknown,
  file: string,
  prefix: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [prefix, ...(issue?.path.map(String) ?? [])].filter((s) => s !== '').join('.');
  throw new FileFormatError(file, `${path || 'value'}: ${issue?.message ?? 'invalid'}`);
}

/**
 * The rows of one segment of a run's metrics (e.g. E1's `{ model: 'full' }`), for resuming: the
 * store alone decides which rows survive a resume. `resumeAt(step)` (a checkpoint at `step` was
 * loaded) drops the segment's rows after `step`; the first `append` without a `resumeAt` (a fresh
 * start) drops all of the segment's rows left by an interrupted session.
 */
export class MetricsSegment {
  private started = false;

  constructor(
    private readonly handle: RunHandle,
    private readonly where: Readonly<Record<string, string | number>>,
  ) {}

  private matches(r: MetricRow): boolean {
    return Object.entries(this.where).every(([k, v]) => r[k] === v);
  }

  /** A checkpoint at `step` was loaded: keep the segment's rows up to and including `step`. */
  resumeAt(step: number): void {
    this.handle.retainMetrics((r) => !this.matches(r) || r.step <= step);
    this.started = true;
  }

  /** Append rows (the segment's fields are added to each). */
  append(rows: readonly MetricRow[]): void {
    if (!this.started) {
      this.handle.retainMetrics((r) => !this.matches(r));
      this.started = true;
    }
    this.handle.appendMetrics(rows.map((r) => ({ ...r, ...this.where })));
  }
}

/**
 * The files of one run: `<root>/runs/<experiment>/<id>/`. Every whole-file write is atomic
 * (`write-file-atomic`); metrics are appended line by line. Opening a run drops a torn last metrics
 * line. While the run's claim is held, `appendMetrics` refuses to write once the claim is lost.
 */
export class RunHandle {
  readonly dir: string;
  private rows: number;

  constructor(
    readonly experiment: string,
    readonly id: string,
    dir: string,
    private readonly claim?: Claim,
    log: (message: string) => void = () => {},
  ) {
    this.dir = dir;
    const file = join(dir, FILES.metrics);
    const m = readMetricsFile(file);
    if (m.torn) {
      log(`dropping a torn last line of ${file} (an append was interrupted)`);
      writeFileAtomic(file, metricsText(m.rows));
    }
    this.rows = m.rows.length;
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  /** Number of metric rows on disk. */
  get metricsRows(): number {
    return this.rows;
  }

  private checkClaim(): void {
    if (this.claim?.lost) {
      throw new Error(
        `run ${this.experiment}/${this.id}: lost its claim (${this.claim.lost}); another process has taken it over`,
      );
    }
  }

  appendMetrics(rows: readonly MetricRow[]): void {
    if (rows.length === 0) return;
    this.checkClaim();
    appendFileSync(this.file(FILES.metrics), metricsText(rows));
    this.rows += rows.length;
  }

  readMetrics(): MetricRow[] {
    return readMetricsFile(this.file(FILES.metrics)).rows;
  }

  /** The rows matching `where` (see `MetricsSegment`); `{}` is the whole file. */
  segment(where: Readonly<Record<string, string | number>> = {}): MetricsSegment {
    return new MetricsSegment(this, where);
  }

  /** Keep only the metric rows for which `keep` is true (atomic rewrite); returns how many were dropped. */
  retainMetrics(keep: (row: MetricRow) => boolean): number {
    const all = this.readMetrics();
    const rows = all.filter(keep);
    if (rows.length !== all.length) this.rewriteMetrics(rows);
    return all.length - rows.length;
  }

  private rewriteMetrics(rows: readonly MetricRow[]): void {
    this.checkClaim();
    writeFileAtomic(this.file(FILES.metrics), metricsText(rows));
    this.rows = rows.length;
  }

  /** `summary.json`: the run's result, a function of its config only (no times, hosts or pids). */
  writeSummary(result: unknown): void {
    this.checkClaim();
    const file: RunSummaryFile = { experiment: this.experiment, id: this.id, result };
    writeJsonAtomic(this.file(FILES.summary), file);
  }

  writeMeta(meta: RunMeta): void {
    writeJsonAtomic(this.file(FILES.meta), meta);
  }
}

/** A finished run as read back (and checked) from the store. */
export interface LoadedRun<C = unknown, S = Record<string, unknown>> {
  readonly experiment: string;
  readonly id: string;
  readonly dir: string;
  readonly config: C;
  /** What the experiment's `run` returned (checked against its result schema). */
  readonly summary: S;
  readonly meta?: RunMeta;
  readonly metrics: MetricRow[];
}

/** `run-meta.json`, written by the runner beside the run's summary. */
export interface RunMeta {
  readonly finishedAt: string;
  /** Seconds of this (last) session of the run; a resumed run counts only the time after resuming. */
  readonly wallSeconds: number;
  readonly resumed: boolean;
  readonly backend: string;
  readonly host: string;
  readonly pid: number;
  /** Timings the run reported (`ctx.timing`), seconds. */
  readonly timings: Readonly<Record<string, number>>;
}

/** Layout of a run's `summary.json`. */
export interface RunSummaryFile<S = unknown> {
  readonly experiment: string;
  readonly id: string;
  readonly result: S;
}

/** Schemas a run is checked against when it is loaded. */
export interface RunSchemas<C, S> {
  readonly config: z.ZodType<C>;
  readonly result?: z.ZodType<S>;
}

/**
 * Results of one profile:
 *
 *     <root>/runs/<experiment>/<id>/{config.json, metrics.jsonl, summary.json, run-meta.json, checkpoints}
 *     <root>/claims/<experiment>/<id>.lock     the run's claim while a process works on it
 *     <root>/claims/cache/<name>.lock          claims on shared caches (the E3/E4 generator)
 *
 * Several processes, on one machine or on several sharing the folder, can work on one root: a run
 * is claimed (`claimRun`) before it executes, and its directory is written only by its claimant.
 */
export class ResultsStore {
  constructor(readonly root: string) {}

  runDir(experiment: string, id: string): string {
    return join(this.root, 'runs', experiment, id);
  }

  claimPath(experiment: string, id: string): string {
    return join(this.root, 'claims', experiment, `${id}.lock`);
  }

  cacheClaimPath(name: string): string {
    return join(this.root, 'claims', 'cache', `${name}.lock`);
  }

  /** Try to claim a run: the claim, or who holds it. */
  claimRun(
    experiment: string,
    id: string,
    options: Omit<ClaimOptions, 'purpose'>,
  ): Promise<Claim | ClaimInfo> {
    return Claim.tryAcquire(this.claimPath(experiment, id), {
      ...options,
      purpose: `run ${experiment}/${id}`,
    });
  }

  /**
   * Claims on shared caches (`claims/cache/<name>.lock`): `acquire` waits while another live
   * process holds the claim and takes over a stale one.
   */
  cacheLock(
    staleAfterMs: number,
    log?: (message: string) => void,
  ): {
    acquire(name: string): Promise<Claim>;
  } {
    return {
      acquire: (name) =>
        Claim.acquire(this.cacheClaimPath(name), { staleAfterMs, purpose: `cache ${name}`, log }),
    };
  }

  /** Who holds a run's claim now (undefined: nobody). */
  claimOf(experiment: string, id: string, staleAfterMs: number): ClaimInfo | undefined {
    return inspectClaim(this.claimPath(experiment, id), staleAfterMs);
  }

  status(experiment: string, id: string): RunStatus {
    const dir = this.runDir(experiment, id);
    if (existsSync(join(dir, FILES.summary))) return 'done';
    if (existsSync(join(dir, FILES.config))) return 'partial';
    return 'new';
  }

  /**
   * Open a run for writing (its claim held). Writes `config.json` the first time; if it exists it
   * must hold the same config (otherwise the directory belongs to something else and we refuse to touch it).
   */
  open(
    experiment: string,
    id: string,
    config: unknown,
    claim?: Claim,
    log?: (message: string) => void,
  ): RunHandle {
    const dir = this.runDir(experiment, id);
    mkdirSync(dir, { recursive: true });
    const cfgFile = join(dir, FILES.config);
    if (existsSync(cfgFile)) {
      const onDisk = readJson(cfgFile) as { config?: unknown };
      if (canonicalJson(onDisk?.config ?? null) !== canonicalJson(config)) {
        throw new FileFormatError(
          cfgFile,
          `holds a different config than run ${id} (edited by hand?); restore it, remove the directory, or rerun with --force`,
        );
      }
    } else {
      writeJsonAtomic(cfgFile, { experiment, id, config });
    }
    return new RunHandle(experiment, id, dir, claim, log);
  }

  /** Delete a run's directory (used by --force). */
  remove(experiment: string, id: string): void {
    rmSync(this.runDir(experiment, id), { recursive: true, force: true });
  }

  /**
   * Load a finished run and check it: `config.json` must parse with the experiment's config schema
   * and hash to the run id; `summary.json` must name the run and its result must parse with the
   * result schema. Any failure is one `FileFormatError` naming the file (and field).
   */
  load<C = unknown, S = Record<string, unknown>>(
    experiment: string,
    id: string,
    schemas?: RunSchemas<C, S>,
  ): LoadedRun<C, S> {
    const dir = this.runDir(experiment, id);
    const summaryFile = join(dir, FILES.summary);
    if (!existsSync(summaryFile))
      throw new FileFormatError(summaryFile, 'is missing: the run has not finished');
    const cfgFile = join(dir, FILES.config);
    const cfgRaw = readJson(cfgFile) as { config?: unknown };
    if (!cfgRaw || typeof cfgRaw !== 'object' || !('config' in cfgRaw)) {
      throw new FileFormatError(cfgFile, "is not a run config (needs 'config')");
    }
    const config = schemas
      ? parseFileWithSchema(schemas.config, cfgRaw.config, cfgFile, 'config')
      : (cfgRaw.config as C);
    let hash: string;
    try {
      hash = runId(experiment, config);
    } catch (e) {
      throw new FileFormatError(cfgFile, `cannot be hashed (${(e as Error).message})`);
    }
    if (hash !== id) {
      throw new FileFormatError(
        cfgFile,
        `holds a config whose hash ${hash} is not the run id ${id} (edited by hand?); restore it or rerun with --force`,
      );
    }
    const sum = readJson(summaryFile) as Partial<RunSummaryFile>;
    if (!sum || typeof sum !== 'object' || !('result' in sum)) {
      throw new FileFormatError(summaryFile, "is not a run summary (needs 'result')");
    }
    if (sum.id !== id || sum.experiment !== experiment) {
      throw new FileFormatError(
        summaryFile,
        `names run ${sum.experiment}/${sum.id}, not ${experiment}/${id}`,
      );
    }
    const summary = schemas?.result
      ? parseFileWithSchema(schemas.result, sum.result, summaryFile, 'result')
      : (sum.result as S);
    const metaFile = join(dir, FILES.meta);
    let meta: RunMeta | undefined;
    if (existsSync(metaFile)) {
      const m = readJson(metaFile) as Partial<RunMeta> | null;
      if (
        !m ||
        typeof m !== 'object' ||
        Array.isArray(m) ||
        typeof m.wallSeconds !== 'number' ||
        typeof m.finishedAt !== 'string' ||
        (m.timings !== undefined && (typeof m.timings !== 'object' || m.timings === null))
      ) {
        throw new FileFormatError(
          metaFile,
          'is not a run meta (needs an object with finishedAt and wallSeconds); restore it or rerun with --force',
        );
      }
      meta = m as RunMeta;
    }
    return {
      experiment,
      id,
      dir,
      config,
      summary,
      meta,
      metrics: readMetricsFile(join(dir, FILES.metrics)).rows,
    };
  }

  /** Ids of the runs of an experiment present on disk. */
  list(experiment: string): string[] {
    const dir = join(this.root, 'runs', experiment);
    return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
  }
}
