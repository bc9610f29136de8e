import * as tf from '@tensorflow/tfjs-core';

/**
 * Our own sgemm rate on the active backend: tf.matMul of two n×n float32 matrices, best of `reps`
 * after one warm-up (GFLOP/s, 2n³ FLOPs per product).
 */
export function ourSgemmGflops(n = 512, reps = 5): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  try {
    tf.tidy(() => tf.matMul(a, b).dataSync());
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      tf.tidy(() => tf.matMul(a, b).dataSync());
      best = Math.min(best, performance.now() - t0);
    }
    return (2 * n ** 3) / (best / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}
