import { matMul } from '@gcvi/kernels';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Our own sgemm rate on the active backend: `tf.matMul` (the backend's kernel) or `matMul` of
 * @gcvi/kernels (the SIMD GEMM the E3/E4 kernels use) of two n×n float32 matrices, best of `reps`
 * after one warm-up (GFLOP/s, 2n³ FLOPs per product).
 */
export function ourSgemmGflops(n = 512, reps = 5, which: 'tf' | 'gcvi' = 'tf'): number {
  const mm =
    which === 'tf' ? (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D) : matMul;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  try {
    tf.tidy(() => {
      mm(a, b).dataSync();
    });
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      tf.tidy(() => {
        mm(a, b).dataSync();
      });
      best = Math.min(best, performance.now() - t0);
    }
    return (2 * n ** 3) / (best / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}
