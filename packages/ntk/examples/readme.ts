import { dense } from '@gcvi/encoders';
import { infiniteWidthNtk, jacobian, minEigenvalue, ntkTracker } from '@gcvi/ntk';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend();
  const rng = createRng(0);
  // The E1 encoder: x ∈ R² → one hidden ReLU layer of width 256 → η ∈ R², NTK parameterization.
  const encoder = dense({ inputSize: 2, hiddenSizes: [256], outputSize: 2 });
  const params0 = encoder.init(rng.split('init')); // first layer N(0, 1), last layer 0
  const angles = Array.from({ length: 100 }, () => 2 * Math.PI * rng.uniform());
  const points = angles.map((a) => [Math.cos(a), Math.sin(a)]);
  const x = tf.tensor2d(points);

  // Per-example Jacobians [100, 2, P] (closed form for dense encoders; any encoder works).
  const j = jacobian(encoder, params0, x, { method: 'auto' });
  console.log(`Jacobian ${j.shape.join(' × ')}`);

  // Track ‖J_t − J_0‖, ‖K_t − K_0‖ and the eigenvalues of K_t − K_0 while the parameters move
  // (with @gcvi/objectives: fit({ ..., callbacks: { every: [tracker.callback()] } })).
  const tracker = ntkTracker({ encoder, params0, x, every: 250 });
  const moved = { w0: params0.w0 as tf.Tensor, w1: tf.fill([256, 2], 0.1) };
  const row = tracker.record(250, moved);
  console.log(`step 250: ‖J−J0‖ = ${row.jacobianDistance.toFixed(4)}, |λ1| = ${row.eig1.toFixed(4)}`);

  // The infinite-width NTK Gram on the tracked set is positive definite (the theorem's assumption).
  const gram = infiniteWidthNtk(points);
  const lambdaMin = minEigenvalue(gram.data, gram.rows);
  console.log(`infinite-width NTK Gram on 100 points: λmin = ${lambdaMin.toExponential(2)}`);

  tf.dispose([x, j, moved.w1, ...Object.values(params0)]);
  return { row, lambdaMin };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
