import { fusedAttention, fusedDense, vonMisesNll } from '@gcvi/kernels';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend(); // the fused kernels run on wasm and cpu; other backends get plain tfjs ops
  const rng = createRng(7);

  // One E1 loss and gradient: y = relu(x W1) W2 / √W, von Mises NLL — four kernel launches in all.
  // (Apply the gradients with `adam()` of @gcvi/objectives: one FusedAdamStep kernel launch.)
  const w1 = tf.variable(rng.split('init').normalTensor([2, 1024]));
  const w2 = tf.variable(tf.zeros([1024, 2]));
  const x = rng.split('data').normalTensor([16, 2]);
  const t = tf.tensor2d(Array.from({ length: 16 }, () => [1, 0]).flat(), [16, 2]); // (cos θ, sin θ)
  const { value, grads } = tf.variableGrads(
    () => vonMisesNll(tf.add(fusedDense(x, w1, w2), 1e-4), t) as tf.Scalar,
    [w1, w2],
  );
  const loss = value.dataSync()[0];
  const w1GradShape = grads[w1.name].shape;

  // Attention over 4 heads without an n×n score matrix, differentiable.
  const q = rng.normalTensor([4, 500, 16]);
  const dq = tf.grad((qq: tf.Tensor) => tf.sum(fusedAttention(qq, q, q)))(q);

  const result = { loss, w1GradShape, gradShape: dq.shape };
  tf.dispose([w1, w2, x, t, q, dq, value, ...Object.values(grads)]);
  return result;
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
