import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findSbibmData, loadSbibmReference, type SbibmTask, sbibmTask } from '@gcvi/datasets';
import { dense, type Encoder } from '@gcvi/encoders';
import {
  type AmortizedPosterior,
  amortize,
  type C2stResult,
  type Family,
  gaussianFull,
  loadPosterior,
  nsfFamily,
  type TrainProgress,
} from '@gcvi/inference';
import { ConfigError, createRng, FileFormatError, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import writeFileAtomic from 'write-file-atomic';
import { c2stFolds } from './c2st-folds.js';
import {
  type FamilyName,
  protocolsFor,
  type SbibmConfig,
  type TaskName,
  type TrainingProtocol,
} from './config.js';

/** One observation's result in a cell. */
export interface ObservationResult {
  readonly observation: number;
  readonly c2st: number;
  readonly foldAccuracies: readonly number[];
  readonly sampleSeconds: number;
  readonly c2stSeconds: number;
  /** Share of the posterior's draws inside the prior's support (1 when nothing was rejected). */
  readonly acceptance?: number;
}

/** How one training run went. */
interface TrainingOutcome {
  readonly steps: number;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  readonly bestValidationLoss: number;
}

/** One training protocol tried for a cell. */
export interface CandidateResult extends TrainingOutcome {
  readonly batchSize: TrainingProtocol['batchSize'];
  readonly trainSeconds: number;
}

/**
 * A cell: one task, budget and family; one trained posterior (the protocol with the lowest
 * validation NLL, whose numbers are the top-level ones), evaluated at each observation.
 */
export interface CellResult extends TrainingOutcome {
  readonly task: TaskName;
  readonly budget: number;
  readonly family: FamilyName;
  readonly profile: string;
  readonly samples: number;
  /** The training seed (absent in cells of earlier versions: seed 0). */
  readonly seed?: number;
  /** Training of every candidate (the cell's training cost). */
  readonly trainSeconds: number;
  /** The protocols this cell was trained with (batch and epoch cap; absent in earlier versions). */
  readonly protocols?: readonly { batchSize: TrainingProtocol['batchSize']; maxEpochs: number }[];
  /** The protocol kept, and every protocol tried (absent in cells of earlier versions). */
  readonly batchSize?: TrainingProtocol['batchSize'];
  readonly candidates?: readonly CandidateResult[];
  readonly observations: ObservationResult[];
  /** Training plus every observation's sampling and C2ST so far (excludes time lost to restarts). */
  readonly wallSeconds: number;
  readonly c2stSettings: string;
}

/** A cell's file name: seed 0 keeps the name of earlier versions, other seeds add `_seed<N>`. */
export const cellName = (task: string, budget: number, family: string, seed = 0) =>
  `${task}_${budget}_${family}${seed === 0 ? '' : `_seed${seed}`}`;

/** The seed of a cell result (cells of earlier versions have none: seed 0). */
export const cellSeed = (c: Pick<CellResult, 'seed'>): number => c.seed ?? 0;

/** The sbibm data folder, or one clear error saying where it was looked for. */
export function dataRoot(config: SbibmConfig): string {
  const root = config.data ? resolve(config.data) : findSbibmData();
  if (!root || !existsSync(root)) {
    throw new FileFormatError(
      config.data ? resolve(config.data) : '../shared/fixtures/sbibm',
      config.data
        ? 'sbibm reference data folder not found (--data)'
        : 'sbibm reference data not found: set GCVI_SBIBM_DIR or --data, or run from a checkout beside shared/fixtures/sbibm',
    );
  }
  for (const t of config.tasks) {
    for (const o of config.observations) {
      const dir = join(root, t, `num_observation_${o}`);
      if (!existsSync(dir)) throw new FileFormatError(dir, `missing: sbibm data of ${t}, observation ${o}`);
    }
  }
  return root;
}

const flowContextDim = (config: SbibmConfig, dim: number) =>
  Math.max(config.flow.minContext, config.flow.contextPerDim * dim);

function makeFamily(config: SbibmConfig, task: SbibmTask, family: FamilyName): Family {
  const dim = task.thetaDim;
  if (family === 'gaussian') return gaussianFull({ dim });
  const f = config.flow;
  const support = task.prior.support;
  // θ standardized by the prior's mean and sd (gaussian_linear: N(0, 0.1·I); a box: its uniform's
  // mean and sd), or, with `support: 'logit'`, box priors through the logit of the box.
  const logit = support !== null && f.support === 'logit';
  const standardize = support
    ? logit
      ? null
      : {
          mean: support.low.map((lo, i) => (lo + (support.high[i] as number)) / 2),
          std: support.low.map((lo, i) => ((support.high[i] as number) - lo) / Math.sqrt(12)),
        }
    : task.name === 'gaussian_linear'
      ? { mean: new Array(dim).fill(0), std: new Array(dim).fill(Math.sqrt(0.1)) }
      : null;
  return nsfFamily({
    dim,
    contextDim: flowContextDim(config, dim),
    layers: f.layers,
    bins: f.bins,
    hidden: f.hidden,
    box: logit ? support : null,
    standardize,
  });
}

/**
 * The flow's `linear` embedding: `dense` with no hidden layer (so a saved posterior reloads it as a
 * dense encoder), its weights drawn N(0, 1) instead of zero: the conditioners see x from the first
 * step (a zero embedding is a saddle the flow leaves only slowly — measured on gaussian_linear,
 * whose validation NLL then rose from the first epoch while the flow fit the θ marginal).
 */
function linearEmbedding(inputSize: number, outputSize: number): Encoder {
  const e = dense({ inputSize, hiddenSizes: [], outputSize, bias: true });
  return {
    ...e,
    init(rng: Rng) {
      const p = e.init(rng);
      p.w0?.dispose();
      p.w0 = rng.split('embedding').normalTensor([inputSize, outputSize]);
      return p;
    },
  };
}

const fmtProtocols = (ps: readonly { batchSize: unknown; maxEpochs?: number }[]) =>
  ps
    .map((p) => `batch ${p.batchSize}${p.maxEpochs === undefined ? '' : ` ≤ ${p.maxEpochs} epochs`}`)
    .join(', ');

/**
 * A cell trained with other protocols than the config's is refused, not reused as if current: its
 * stored protocols (batch and epoch cap) must equal the config's; a cell of an earlier version,
 * without them, must at least have tried the same batch sizes.
 */
function checkProtocols(
  file: string,
  cell: CellResult,
  want: readonly { batchSize: TrainingProtocol['batchSize']; maxEpochs: number }[],
): void {
  const had: readonly { batchSize: TrainingProtocol['batchSize']; maxEpochs?: number }[] =
    cell.protocols ?? (cell.candidates ?? []).map((c) => ({ batchSize: c.batchSize }));
  const same =
    had.length === want.length &&
    had.every(
      (p, i) =>
        p.batchSize === want[i]!.batchSize &&
        (p.maxEpochs === undefined || p.maxEpochs === want[i]!.maxEpochs),
    );
  if (!same) {
    throw new FileFormatError(
      file,
      `was trained with ${fmtProtocols(had)}; this config trains ${fmtProtocols(want)}. Delete it and its .gcvi to retrain the cell, or use another --out`,
    );
  }
}

function readCell(file: string): CellResult | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CellResult;
  } catch (e) {
    throw new FileFormatError(
      file,
      `unreadable cell result (${(e as Error).message}); delete it to redo the cell`,
    );
  }
}

const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s - 60 * m)}s` : `${s.toFixed(0)}s`;
};

/** Progress lines on stderr: overwritten in place on a TTY, at most one every 10 s otherwise. */
function progressPrinter(label: string) {
  const tty = Boolean(process.stderr.isTTY);
  const t0 = performance.now();
  let last = 0;
  return {
    train(p: TrainProgress, what = '') {
      const now = performance.now();
      if (!tty && now - last < 10_000) return;
      last = now;
      const secs = (now - t0) / 1000;
      const rate = p.step / Math.max(secs, 1e-9);
      const eta = (p.steps - p.step) / rate;
      const line =
        `${label}${what ? ` ${what}` : ''} epoch ${p.epoch ?? '-'} step ${p.step}/${p.steps} ${rate.toFixed(1)} steps/s ` +
        `loss ${p.loss.toFixed(3)} val ${p.validationLoss?.toFixed(3) ?? '-'} ETA ≤ ${fmtTime(eta)}`;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    note(msg: string) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${label} ${msg}\n`);
    },
  };
}

/**
 * n posterior draws at x inside the prior's support box: draws outside it are rejected and more are
 * drawn (sbi's leakage correction), in rounds sized by the acceptance so far. An acceptance below
 * 1e-3 is an error naming the cell (the posterior has left the prior).
 */
export function drawsInSupport(
  sample: (n: number, rng: Rng) => tf.Tensor,
  n: number,
  dim: number,
  support: { readonly low: readonly number[]; readonly high: readonly number[] } | null,
  rng: Rng,
  label: string,
): { draws: tf.Tensor2D; acceptance: number } {
  // No box: the draws of the stream itself (the same draws as before rejection existed).
  if (!support) return { draws: sample(n, rng) as tf.Tensor2D, acceptance: 1 };
  const out = new Float32Array(n * dim);
  let got = 0;
  let drawn = 0;
  let accepted = 0;
  for (let round = 0; got < n; round++) {
    const acc = drawn > 0 ? Math.max(accepted / drawn, 1e-3) : 1;
    const want = Math.min(Math.max(Math.ceil(((n - got) / acc) * 1.1), 100), 20 * n);
    const t = sample(want, rng.split(`round${round}`));
    const v = t.dataSync();
    t.dispose();
    for (let i = 0; i < want; i++) {
      let inside = true;
      for (let j = 0; j < dim && inside; j++) {
        const th = v[i * dim + j] as number;
        inside = th >= (support.low[j] as number) && th <= (support.high[j] as number);
      }
      if (!inside) continue;
      accepted++;
      if (got < n) {
        out.set(v.subarray(i * dim, (i + 1) * dim), got * dim);
        got++;
      }
    }
    drawn += want;
    if (got < n && drawn >= 1000 && accepted / drawn < 1e-3) {
      throw new ConfigError(
        label,
        `only ${accepted} of ${drawn} posterior draws lie inside the prior's support (acceptance < 1e-3)`,
      );
    }
  }
  return { draws: tf.tensor2d(out, [n, dim]), acceptance: accepted / drawn };
}

/** Reference draws for C2ST: sbibm's file, or exact posterior draws for gaussian_linear. */
function referenceSamples(task: SbibmTask, root: string, observation: number, n: number, seed: number) {
  const ref = loadSbibmReference(task.name, observation, root);
  let rows: Float64Array;
  if (ref.samples) {
    if (ref.samples.rows < n) {
      throw new FileFormatError(
        `${root}/${task.name}/num_observation_${observation}`,
        `has ${ref.samples.rows} reference samples, fewer than the ${n} asked for`,
      );
    }
    rows = ref.samples.values.subarray(0, n * task.thetaDim);
  } else if (task.name === 'gaussian_linear') {
    const gl = sbibmTask('gaussian_linear');
    rows = gl.samplePosterior(ref.x, n, createRng(seed).split(`reference-${observation}`));
  } else {
    throw new FileFormatError(`${root}/${task.name}/num_observation_${observation}`, 'no reference samples');
  }
  return { x: ref.x, samples: tf.tensor2d(Float32Array.from(rows), [n, task.thetaDim]) };
}

/** How a cell runs (not what it computes: no option here changes a result, only how long it takes). */
export interface RunOptions {
  /** Worker threads for each C2ST's folds (default: the machine's available parallelism). */
  readonly threads?: number;
}

/**
 * Run (or resume) one cell: train unless its posterior is saved, then every observation not yet
 * in its result file. Each step's result is written atomically, so an interrupted run resumes
 * where it stopped and a finished cell is not redone.
 */
export async function runCell(
  config: SbibmConfig,
  root: string,
  taskName: TaskName,
  budget: number,
  familyName: FamilyName,
  options: RunOptions = {},
  seed: number = config.seeds[0]!,
): Promise<{ result: CellResult; skipped: boolean }> {
  const dir = join(resolve(config.out), 'cells');
  mkdirSync(dir, { recursive: true });
  const name = cellName(taskName, budget, familyName, seed);
  const file = join(dir, `${name}.json`);
  const postFile = join(dir, `${name}.gcvi`);
  const label = `[${taskName} ${budget} ${familyName}${seed === 0 ? '' : ` seed ${seed}`}]`;
  const log = progressPrinter(label);
  let cell = readCell(file);
  if (cell && cellSeed(cell) !== seed) {
    throw new FileFormatError(
      file,
      `holds a cell trained with seed ${cellSeed(cell)}, not ${seed}; delete it to redo the cell`,
    );
  }
  const protocols = protocolsFor(config, budget, familyName).map((p) => ({
    batchSize: p.batchSize,
    maxEpochs: p.maxEpochs,
  }));
  if (cell) checkProtocols(file, cell, protocols);
  const todo = (c: CellResult | null) =>
    config.observations.filter((o) => !c?.observations.some((r) => r.observation === o));
  if (cell && todo(cell).length === 0) {
    log.note('done before: skipped');
    return { result: cell, skipped: true };
  }
  const task = sbibmTask(taskName);
  const tCell = performance.now();
  let post: AmortizedPosterior;
  if (cell && existsSync(postFile)) {
    post = loadPosterior(postFile);
    log.note(`resuming: trained posterior loaded from ${postFile}`);
  } else {
    const tr = config.training;
    const nTrain = budget - Math.max(1, Math.round(tr.validationFraction * budget));
    const candidates: CandidateResult[] = [];
    let best: { post: AmortizedPosterior; c: CandidateResult } | undefined;
    for (const protocol of protocols) {
      const batchSize = protocol.batchSize === 'full' ? nTrain : protocol.batchSize;
      const est = amortize({
        simulator: task,
        family: makeFamily(config, task, familyName),
        encoder:
          familyName === 'flow' && config.flow.embedding === 'linear'
            ? linearEmbedding(task.xDim, flowContextDim(config, task.thetaDim))
            : { hiddenSizes: config.encoderHidden },
        seed: createRng(seed)
          .split(name)
          .int(2 ** 31),
      });
      const t0 = performance.now();
      const res = await est.train({
        simulations: budget,
        batchSize,
        learningRate: tr.learningRate,
        validationFraction: tr.validationFraction,
        earlyStopping: { patience: tr.patience },
        maxEpochs: protocol.maxEpochs,
        clipNorm: tr.clipNorm,
        progressEvery: 1,
        onProgress: (p) => log.train(p, `batch ${protocol.batchSize}`),
      });
      const val = res.validationLoss ?? [];
      const c: CandidateResult = {
        batchSize: protocol.batchSize,
        trainSeconds: (performance.now() - t0) / 1000,
        steps: res.steps,
        epochs: res.epochs ?? 0,
        bestEpoch: res.bestEpoch ?? 0,
        stoppedEarly: res.stoppedEarly ?? false,
        bestValidationLoss: val.length ? Math.min(...val) : Number.NaN,
      };
      candidates.push(c);
      log.note(
        `batch ${protocol.batchSize}: trained in ${fmtTime(c.trainSeconds)}: ${c.steps} steps, ${c.epochs} epochs (best ${c.bestEpoch}${c.stoppedEarly ? ', stopped early' : ''}), best validation NLL ${c.bestValidationLoss.toFixed(3)}`,
      );
      const post = est.posterior();
      est.dispose();
      // NaN (no validation) never wins over a number; the first protocol wins ties
      if (
        !best ||
        c.bestValidationLoss < best.c.bestValidationLoss ||
        Number.isNaN(best.c.bestValidationLoss)
      ) {
        best?.post.dispose();
        best = { post, c };
      } else post.dispose();
    }
    const chosen = best!;
    post = chosen.post;
    const trainSeconds = candidates.reduce((s, c) => s + c.trainSeconds, 0);
    const tmp = `${postFile}.tmp-${process.pid}`;
    post.save(tmp);
    renameSync(tmp, postFile);
    cell = {
      task: taskName,
      budget,
      family: familyName,
      profile: config.profile,
      samples: config.samples,
      seed,
      protocols,
      ...chosen.c,
      trainSeconds,
      candidates,
      observations: [],
      wallSeconds: trainSeconds,
      c2stSettings: '',
    };
    writeFileAtomic.sync(file, `${JSON.stringify(cell, null, 2)}\n`);
    if (candidates.length > 1) {
      log.note(
        `kept batch ${chosen.c.batchSize} (lowest validation NLL, ${chosen.c.bestValidationLoss.toFixed(3)})`,
      );
    }
  }
  try {
    for (const o of todo(cell)) {
      const t0 = performance.now();
      const ref = referenceSamples(task, root, o, config.samples, seed);
      // With `support: 'logit'` the flow has no mass outside the box (nothing is rejected); the
      // Gaussian family and the standardized flow are corrected for leakage as sbi does.
      const { draws, acceptance } = drawsInSupport(
        (k, r) => post.sample(Array.from(ref.x), k, r),
        config.samples,
        task.thetaDim,
        task.prior.support,
        createRng(seed).split(`${name}-obs${o}`),
        `${name} observation ${o}`,
      );
      const t1 = performance.now();
      let acc: C2stResult;
      try {
        acc = await c2stFolds(ref.samples, draws as tf.Tensor2D, {
          seed,
          split: `${name}-c2st${o}`,
          folds: config.c2st.folds,
          maxEpochs: config.c2st.maxEpochs,
          ...(options.threads !== undefined ? { threads: options.threads } : {}),
        });
      } finally {
        tf.dispose([ref.samples, draws]);
      }
      const t2 = performance.now();
      const r: ObservationResult = {
        observation: o,
        c2st: acc.accuracy,
        foldAccuracies: acc.foldAccuracies,
        sampleSeconds: (t1 - t0) / 1000,
        c2stSeconds: (t2 - t1) / 1000,
        acceptance,
      };
      cell = {
        ...cell,
        c2stSettings: acc.settings,
        observations: [...cell.observations, r].sort((a, b) => a.observation - b.observation),
        wallSeconds: cell.wallSeconds + (t2 - t0) / 1000,
      };
      writeFileAtomic.sync(file, `${JSON.stringify(cell, null, 2)}\n`);
      log.note(
        `observation ${o}: C2ST ${acc.accuracy.toFixed(3)} (draws ${fmtTime(r.sampleSeconds)}${acceptance < 1 ? `, ${(100 * acceptance).toFixed(1)}% inside the prior` : ''}, C2ST ${fmtTime(r.c2stSeconds)})`,
      );
    }
  } finally {
    post.dispose();
  }
  log.note(`cell done in ${fmtTime((performance.now() - tCell) / 1000)} this run`);
  return { result: cell, skipped: false };
}

/** Every cell of the config, in order (cheap ones first: budgets ascending, then seeds). */
export function cellsOf(
  config: SbibmConfig,
): { task: TaskName; budget: number; family: FamilyName; seed: number }[] {
  const out: { task: TaskName; budget: number; family: FamilyName; seed: number }[] = [];
  for (const budget of [...config.budgets].sort((a, b) => a - b))
    for (const seed of config.seeds)
      for (const task of config.tasks)
        for (const family of config.families) out.push({ task, budget, family, seed });
  return out;
}

/** Every cell result present in the results folder. */
export function readCells(out: string): CellResult[] {
  const dir = join(resolve(out), 'cells');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f: string) => f.endsWith('.json'))
    .sort()
    .map((f: string) => readCell(join(dir, f)) as CellResult);
}

export function checkBudgets(config: SbibmConfig): void {
  for (const b of config.budgets) {
    if (b < 100) throw new ConfigError('budgets', `each budget must be ≥ 100 simulations, got ${b}`);
  }
}
