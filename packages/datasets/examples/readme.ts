import { canonicalSimulator } from '@gcvi/datasets';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend();
  const rng = createRng(0).split('data');
  // E1: θ ~ Uniform(0, 2π), x = (cos(θ + ε), sin(θ + ε)), ε ~ Normal(0, 0.5²).
  const sim = canonicalSimulator({ sigma: 0.5 });
  const { theta, x } = sim.sample(1000, rng); // theta [1000, 1], x [1000, 2]
  // Exact posterior of the first observation on a grid of bin width ~1e-3 over (0, 2π).
  const x0 = tf.slice(x, [0, 0], [1, 2]);
  const grid = sim.exactPosteriorGrid(x0);
  const density = grid.density[0] as Float64Array;
  const mode = grid.theta[density.indexOf(Math.max(...density))] as number;
  // The red line of Figure 1: mean −log p(θ | x) of the test set under the exact posterior.
  const exactNll = sim.exactNll(theta, x);
  console.log(`θ₀ = ${theta.dataSync()[0]?.toFixed(3)}, posterior mode ${mode.toFixed(3)}`);
  console.log(`exact NLL on 1000 pairs: ${exactNll.toFixed(4)} (wrapped-normal entropy ≈ 0.726)`);
  tf.dispose([theta, x, x0]);
  return { mode, exactNll };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
