import type { SampleStream } from '@gcvi/distributions';
import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Observation } from '../posterior.js';

/**
 * What the diagnostics need from a posterior: draws for a batch of observations, and (for
 * coverage) its log-density. `AmortizedPosterior` satisfies it; so does any wrapper around an
 * exact or reference posterior.
 */
export interface PosteriorLike {
  /** `[n, B, dim]` draws for a batch `[B, ...]` of observations. */
  sample(x: Observation, n: number, rng: SampleStream): tf.Tensor;
  /** `[n, B, dim]` (or `[B, dim]`) values → `[n, B]` (or `[B]`). */
  logProb?(theta: tf.Tensor, x: Observation): tf.Tensor;
  /** `[B, dim]`; on circular coordinates the circular mean direction. */
  mean?(x: Observation): tf.Tensor;
  /** Which coordinates are angles (an AmortizedPosterior's family knows). */
  readonly family?: { readonly circular: readonly boolean[] };
}

/** Test pairs (θ*, x) as given to a diagnostic: θ `[N, dim]` (or `[N]`), x `[N, ...]`. */
export interface Pairs {
  readonly theta: tf.Tensor;
  readonly x: tf.Tensor;
}

export function pairsOf(pairs: Pairs): { theta: Float32Array; n: number; dim: number } {
  if (!pairs || !(pairs.theta instanceof tf.Tensor) || !(pairs.x instanceof tf.Tensor)) {
    throw new ConfigError('pairs', 'must be { theta: Tensor [N, dim], x: Tensor [N, ...] }');
  }
  const th = pairs.theta.rank === 1 ? tf.expandDims(pairs.theta, 1) : pairs.theta;
  if (th.rank !== 2) throw new ShapeError('pairs.theta', '[N, dim]', pairs.theta.shape);
  const n = th.shape[0] as number;
  if (pairs.x.shape[0] !== n) throw new ShapeError('pairs.x', `[${n}, ...]`, pairs.x.shape);
  const out = { theta: th.dataSync() as Float32Array, n, dim: th.shape[1] as number };
  if (th !== pairs.theta) th.dispose();
  return out;
}

export function circularOf(posterior: PosteriorLike, dim: number, given?: readonly boolean[]): boolean[] {
  const c = given ?? posterior.family?.circular ?? new Array(dim).fill(false);
  if (c.length !== dim)
    throw new ConfigError('circular', `must have one flag per θ coordinate (${dim}), got ${c.length}`);
  return [...c];
}

/** Rows [s, s + m) of x. */
export function rows(x: tf.Tensor, s: number, m: number): tf.Tensor {
  return tf.slice(x, [s], [m]);
}

export const TWO_PI = 2 * Math.PI;

/** Map an angle into [0, 2π). */
export function mod2pi(a: number): number {
  return a - TWO_PI * Math.floor(a / TWO_PI);
}

/** Map an angle difference into [−π, π). */
export function wrapPi(a: number): number {
  return mod2pi(a + Math.PI) - Math.PI;
}

/** Circular mean direction and mean resultant length of angles. */
export function circularMean(
  xs: ArrayLike<number>,
  stride = 1,
  offset = 0,
  count = xs.length,
): { mean: number; r: number } {
  let c = 0;
  let s = 0;
  for (let i = 0; i < count; i++) {
    const a = xs[offset + i * stride] as number;
    c += Math.cos(a);
    s += Math.sin(a);
  }
  return { mean: Math.atan2(s, c), r: Math.hypot(c, s) / count };
}
