import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export function checkDim(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(field, `must be a positive integer, got ${String(v)}`);
  }
  return v;
}

export function checkNonNegative(field: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(field, `must be a finite number >= 0, got ${String(v)}`);
  }
  return v;
}

/** Columns [start, start + size) of a `[B, n]` tensor. */
export function columns(t: tf.Tensor, start: number, size: number): tf.Tensor {
  return tf.slice(t, [0, start], [-1, size]);
}

/** Last-axis slice [start, start + size) of `[..., n]` (any rank). */
export function lastAxis(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const begin = t.shape.map((_, k) => (k === t.rank - 1 ? start : 0));
  const sz = t.shape.map((_, k) => (k === t.rank - 1 ? size : -1));
  return tf.slice(t, begin, sz);
}

export function checkEta(kind: string, eta: tf.Tensor, outputSize: number): number {
  if (eta.rank !== 2 || eta.shape[1] !== outputSize) {
    throw new ShapeError(`${kind} family: encoder output`, `[batch, ${outputSize}]`, eta.shape);
  }
  return eta.shape[0] as number;
}

/**
 * A constraint that keeps a gradient everywhere: −softplus(u) − floor < 0 (for η2-type natural
 * parameters). Unlike a hard clamp, its derivative −sigmoid(u) is never zero, so a zero-initialized
 * last layer (u = 0, value −log 2 − floor) trains.
 */
export function negSoftplus(u: tf.Tensor, floor: number): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.neg(tf.softplus(u)), floor));
}

/** softplus(u) + floor > 0, derivative sigmoid(u) > 0 everywhere. */
export function posSoftplus(u: tf.Tensor, floor: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.softplus(u), floor));
}

/** Wrap angles into [−π, π). */
export function wrapAngle(x: number): number {
  const t = x + Math.PI;
  return t - 2 * Math.PI * Math.floor(t / (2 * Math.PI)) - Math.PI;
}
