import { createRegistry, fit, loadObjectivePlugins, stepDivideLr } from '@gcvi/objectives';
import { conjugateProblem, linearEncoderParams, linearNormalQ } from '@gcvi/objectives/test';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend();
  // Load the plugin by package name: nothing in @gcvi/objectives knows about it.
  const registry = createRegistry();
  await loadObjectivePlugins(['@gcvi/objective-renyi'], registry);
  console.log(registry.list()); // ['renyi']

  // θ ~ N(0, 1), x | θ ~ N(θ, 1): 512 observed x, fitted with the VR bound (α = 0.5, K = 8).
  const rng = createRng(3);
  const problem = conjugateProblem(['observed', 'logJoint'], rng.split('data'));
  const params = linearEncoderParams(); // q(θ | x) = Normal(a·x + b, exp(c·x + d))
  // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
  await fit({
    params,
    variational: linearNormalQ,
    objective: 'renyi',
    objectiveOptions: { alpha: 0.5, K: 8 },
    registry,
    problem,
    schedule: stepDivideLr(0.05, 100),
    steps: 800,
    batchSize: 256,
    rng: rng.split('train'),
  });
  const slope = params.a.dataSync()[0] as number;
  const variance = Math.exp(2 * (params.d.dataSync()[0] as number));
  console.log(`q(θ | x) = N(${slope.toFixed(3)}·x + …, ${variance.toFixed(3)}); exact N(0.5·x, 0.5)`);
  tf.dispose(Object.values(params));
  problem.dispose();
  return { slope, variance };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
