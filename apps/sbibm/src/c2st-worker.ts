/**
 * Worker thread of `c2stFolds`: trains and scores some folds of one C2ST (`c2st` of
 * `@gcvi/inference` with `onlyFolds`). Loaded by piscina from `dist/`.
 */
import { c2st } from '@gcvi/inference';
import { createRng } from '@gcvi/runtime';
import type { FoldTask, FoldTaskResult } from './c2st-folds.js';

function rows(data: Float32Array, n: number, d: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => data.subarray(i * d, (i + 1) * d));
}

export default function runFolds(t: FoldTask): FoldTaskResult {
  const r = c2st(rows(t.a, t.na, t.d), rows(t.b, t.nb, t.d), {
    rng: createRng(t.seed).split(t.split),
    folds: t.folds,
    maxEpochs: t.maxEpochs,
    onlyFolds: t.onlyFolds,
  });
  return { folds: r.folds, foldAccuracies: r.foldAccuracies, epochs: r.epochs, settings: r.settings };
}
