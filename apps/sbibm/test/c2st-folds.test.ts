import { c2st } from '@gcvi/inference';
import { createRng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { c2stFolds } from '../src/c2st-folds.js';

// Real worker threads (piscina). The workers run the built dist/c2st-worker.js and the built
// @gcvi/inference, this thread the sources: `pnpm test` (turbo) builds this app and its
// dependencies first; after editing them, run `pnpm build` before a bare `vitest run`. Folds
// trained on threads must give exactly the numbers of one call on this thread.
describe('c2stFolds: the C2ST folds on worker threads', () => {
  it('gives exactly the result of one c2st call, with 2 and with 3 threads', async () => {
    const rng = createRng(7);
    const a = rng.normalTensor([400, 3]) as tf.Tensor2D;
    const b = rng.normalTensor([400, 3], 0.4, 1) as tf.Tensor2D;
    const opts = { seed: 11, split: 'cell-c2st1', folds: 5, maxEpochs: 25 };
    const serial = c2st(a, b, { rng: createRng(11).split('cell-c2st1'), folds: 5, maxEpochs: 25 });
    // the samples differ in distribution: the classifier is better than chance (not a constant)
    expect(serial.accuracy).toBeGreaterThan(0.55);
    for (const threads of [2, 3]) {
      const par = await c2stFolds(a, b, { ...opts, threads });
      expect(par.foldAccuracies).toEqual(serial.foldAccuracies);
      expect(par.epochs).toEqual(serial.epochs);
      expect(par.accuracy).toBe(serial.accuracy);
      expect(par.settings).toBe(serial.settings);
    }
    const one = await c2stFolds(a, b, { ...opts, threads: 1 });
    expect(one.accuracy).toBe(serial.accuracy);
    for (const bad of [0, 2.5, Number.NaN])
      await expect(c2stFolds(a, b, { ...opts, threads: bad })).rejects.toThrow(
        /threads: must be a whole number/,
      );
    tf.dispose([a, b]);
  }, 120_000);
});
