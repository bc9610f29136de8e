import { i1OverI0, kl, logI0, Normal, VonMises } from '@gcvi/distributions';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend();
  const rng = createRng(42);

  // A von Mises q(θ | η) in natural parameters, as an encoder would output it (batch of 2).
  const eta = tf.tensor2d([
    [2, 1],
    [-0.5, 30],
  ]);
  const q = VonMises.fromNatural(eta);
  const theta = q.sample(1000, rng.split('theta')); // [1000, 2], Best–Fisher, seeded
  const nll = tf.neg(tf.mean(q.logProb(theta))).dataSync()[0];

  // Forward-KL-style gradient of −log q(θ) w.r.t. η (finite even at η = 0).
  const grad = tf.grad((e: tf.Tensor) =>
    tf.neg(tf.sum(VonMises.fromNatural(e).logProb(tf.tensor1d([0.3, 1.5])))),
  );
  const gEta = grad(eta).arraySync();

  // A Gaussian from natural parameters with the paper's clamp, reparameterized draws and a KL.
  const g = Normal.fromNatural(tf.tensor1d([1, 4]), tf.tensor1d([-0.5, 0.2]), { clampEta2: [-1000, -0.1] });
  const draws = g.rsample(3, rng.split('eps')).arraySync();
  const klValue = kl(g, new Normal(0, 1)).arraySync();

  // Special functions without overflow for large κ.
  const k = tf.tensor1d([0, 1, 1e4]);
  const special = { logI0: Array.from(logI0(k).dataSync()), ratio: Array.from(i1OverI0(k).dataSync()) };

  const result = { nll, gEta, draws, klValue, special };
  return result;
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
