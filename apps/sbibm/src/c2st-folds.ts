import { availableParallelism } from 'node:os';
import { type C2stResult, c2st } from '@gcvi/inference';
import { ConfigError, createRng } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';
import { Piscina } from 'piscina';

/** What one worker thread trains: some folds of one C2ST (see `c2st-worker.ts`). */
export interface FoldTask {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly na: number;
  readonly nb: number;
  readonly d: number;
  /** The C2ST's rng is `createRng(seed).split(split)`, in every thread. */
  readonly seed: number;
  readonly split: string;
  readonly folds: number;
  readonly maxEpochs: number;
  readonly onlyFolds: number[];
}
export type FoldTaskResult = Pick<C2stResult, 'folds' | 'foldAccuracies' | 'epochs' | 'settings'>;

export interface C2stFoldsOptions {
  readonly seed: number;
  readonly split: string;
  readonly folds: number;
  readonly maxEpochs: number;
  /** Worker threads (default: the machine's available parallelism, at most `folds`); 1 = this thread. */
  readonly threads?: number;
}

/** The worker script: beside this module in `dist/`, or the built one when this runs from `src/`. */
function workerFile(): string {
  const here = new URL(import.meta.url);
  const rel = here.pathname.endsWith('.ts') ? '../dist/c2st-worker.js' : './c2st-worker.js';
  return new URL(rel, here).href;
}

/**
 * sbibm's C2ST (`c2st` of `@gcvi/inference`) with its folds trained on worker threads, folds
 * dealt round-robin. Each fold's classifier depends only on the samples, the rng and its index, so
 * the result is exactly that of one `c2st` call on this thread, whatever `threads` is.
 */
export async function c2stFolds(a: tf.Tensor2D, b: tf.Tensor2D, o: C2stFoldsOptions): Promise<C2stResult> {
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1))
    throw new ConfigError('threads', `must be a whole number ≥ 1 (got ${o.threads})`);
  const threads = Math.max(1, Math.min(o.threads ?? availableParallelism(), o.folds));
  const [na, d] = a.shape;
  const [nb, db] = b.shape;
  // one thread, or samples c2st refuses (it names the error): on this thread
  if (threads === 1 || d !== db)
    return c2st(a, b, { rng: createRng(o.seed).split(o.split), folds: o.folds, maxEpochs: o.maxEpochs });
  const A = a.dataSync() as Float32Array;
  const B = b.dataSync() as Float32Array;
  const pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads });
  try {
    const parts = Array.from({ length: threads }, (_, t) =>
      Array.from({ length: o.folds }, (_, f) => f).filter((f) => f % threads === t),
    );
    const results: FoldTaskResult[] = await Promise.all(
      parts.map((onlyFolds) =>
        pool.run({
          a: A,
          b: B,
          na,
          nb,
          d,
          seed: o.seed,
          split: o.split,
          folds: o.folds,
          maxEpochs: o.maxEpochs,
          onlyFolds,
        } satisfies FoldTask),
      ),
    );
    const acc = new Array<number>(o.folds).fill(Number.NaN);
    const epochs = new Array<number>(o.folds).fill(Number.NaN);
    for (const r of results)
      r.folds.forEach((f, i) => {
        acc[f] = r.foldAccuracies[i] as number;
        epochs[f] = r.epochs[i] as number;
      });
    // every fold exactly once (c2st refuses repeated folds within one call)
    if (results.flatMap((r) => r.folds).length !== o.folds || acc.some(Number.isNaN))
      throw new Error('c2stFolds: the worker threads did not return every fold once');
    // summed in fold order, as one call sums them
    const accuracy = acc.reduce((s, v) => s + v, 0) / o.folds;
    return {
      accuracy,
      folds: acc.map((_, f) => f),
      foldAccuracies: acc,
      epochs,
      settings: (results[0] as FoldTaskResult).settings,
    };
  } finally {
    await pool.destroy();
  }
}
