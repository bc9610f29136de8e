import type { Encoder, NamedTensors } from '@gcvi/encoders';
import {
  infiniteWidthNtk,
  minEigenvalue,
  type NtkTrackerRow,
  ntkGram,
  ntkTracker,
  symmetricEigenvalues,
} from '@gcvi/ntk';
import type { EveryCallback } from '@gcvi/objectives';
import type * as tf from '@tensorflow/tfjs-core';

export interface TrackerHandle {
  /** The fit callback (every `trackEvery` steps and at step 0). */
  readonly callback: EveryCallback;
  dispose(): void;
}

/** A metrics row of the tracker (without `kind`/`model`). */
export interface NtkMetric {
  readonly step: number;
  readonly jacobianDistance: number;
  readonly ntkDistance: number;
  readonly eig1: number;
  readonly eig2: number;
  readonly [key: string]: number;
}

/** `@gcvi/ntk`'s tracker as a fit callback that also hands each row to `onRow` (to write it to metrics). */
export function createTracker(
  encoder: Encoder,
  params0: NamedTensors,
  x: tf.Tensor,
  every: number,
  onRow: (row: NtkMetric) => void,
): TrackerHandle {
  const tracker = ntkTracker({ encoder, params0, x, every });
  const inner = tracker.callback();
  const toMetric = (r: NtkTrackerRow): NtkMetric => ({
    step: r.step,
    jacobianDistance: r.jacobianDistance,
    ntkDistance: r.ntkDistance,
    eig1: r.eig1,
    eig2: r.eig2,
  });
  return {
    callback: {
      every: inner.every,
      atStart: true,
      fn: (info) => {
        inner.fn({ step: info.step, params: info.params });
        onRow(toMetric(tracker.rows[tracker.rows.length - 1] as NtkTrackerRow));
      },
    },
    dispose() {},
  };
}

/** Smallest eigenvalue of the empirical NTK Gram ((N·out)² over tracked inputs and outputs) at `params`. */
export function empiricalGramMinEigenvalue(encoder: Encoder, params: NamedTensors, x: tf.Tensor): number {
  const g = ntkGram(encoder, params, x);
  return minEigenvalue(g.data, g.rows);
}

/**
 * Smallest eigenvalue of the infinite-width NTK Gram (N × N; the kernel is the same for both
 * outputs) on the tracked inputs. `lastLayer`: the limit of the empirical NTK at the E1
 * initialization (zero last layer); `both`: the full two-layer NTK.
 */
export function infiniteGramMinEigenvalue(x: tf.Tensor, term: 'lastLayer' | 'both'): number {
  const k = infiniteWidthNtk(x, undefined, { term });
  return minEigenvalue(k.data, k.rows);
}

/**
 * Extreme eigenvalues of the infinite-width NTK Gram (last-layer part) on `x`, and the float64
 * resolution below which an eigenvalue cannot be told from 0: N · ε · λ_max.
 */
export function infiniteGramSpectrum(x: tf.Tensor): { min: number; max: number; resolution: number } {
  const k = infiniteWidthNtk(x, undefined, { term: 'lastLayer' });
  const ev = symmetricEigenvalues(k.data, k.rows);
  const max = ev[0] as number;
  return { min: ev[k.rows - 1] as number, max, resolution: k.rows * Number.EPSILON * max };
}
