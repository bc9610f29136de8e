import { createRng } from '@gcvi/runtime';
import type * as tf from '@tensorflow/tfjs-core';

export const BACKENDS_UNDER_TEST = ['wasm', 'cpu'] as const;

/** Each backend with the SIMD inner loops on and off (the scalar JS loops are the fallback). */
export const BACKEND_SIMD_CASES = BACKENDS_UNDER_TEST.flatMap((b) => [
  [b, true],
  [b, false],
]) as [(typeof BACKENDS_UNDER_TEST)[number], boolean][];

export function randn(seed: string, n: number, std = 1): Float32Array {
  return createRng(seed).fillNormal(new Float32Array(n), 0, std);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function values(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}
