import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.js';

/**
 * The one simulator contract of gcvi (bayesflow's `Simulator.sample`): `sample(n, rng)` returns `n`
 * joint draws as named tensors whose leading dimension is `n`. The caller owns (disposes) them.
 * All randomness comes from `rng`, so the same stream position gives the same draws.
 *
 * It lives here, beside `Rng`, so that every package (simulators in `@gcvi/datasets`, `amortize` in
 * `@gcvi/inference`) names the same type; `@gcvi/datasets` adds `makeSimulator` and the checks.
 */
export type Draws = Record<string, tf.Tensor>;

/** Named tensors: any object type whose every field is a tensor (interfaces included). */
export type NamedDraws<T> = { readonly [K in keyof T]: tf.Tensor };

export interface Simulator<T extends NamedDraws<T> = Draws> {
  /** `n` joint draws, every tensor with leading dimension `n`. */
  sample(n: number, rng: Rng): T;
}
