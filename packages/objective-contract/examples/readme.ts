import {
  type AnyObjective,
  OBJECTIVE_CONTRACT_VERSION,
  type Objective,
  type ObjectivePluginModule,
} from '@gcvi/objective-contract';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

// An objective is a plain value. This one is the forward KL (L_P) on simulated pairs.
export const myForwardKl: Objective<{ readonly batchSize?: number }> = {
  name: 'my-forward-kl',
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['simulator'],
  description: 'E_p(θ, x)[−log q(θ | x)] on fresh simulated pairs',
  defaults: {},
  parseOptions(raw) {
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== 'object') throw new Error('my-forward-kl.options: must be an object');
    return { ...(raw as { batchSize?: number }) };
  },
  // Outside the gradient: draw what one step needs, as named tensors.
  sampleBatch({ problem, rng, options, batchSize }) {
    if (!problem.simulate) throw new Error("problem.simulate: objective 'my-forward-kl' needs it");
    const { theta, x } = problem.simulate(options.batchSize ?? batchSize, rng);
    return { theta, x };
  },
  // The scalar to minimize; it reaches the parameters only through ctx.q(x).
  loss({ batch, q }) {
    return tf.tidy(() =>
      tf.neg(tf.mean<tf.Scalar>(q(batch.x as tf.Tensor).logProb(batch.theta as tf.Tensor))),
    );
  },
};

// What a plugin package exports.
export const objectives: ObjectivePluginModule['objectives'] = [myForwardKl];

export async function main(): Promise<unknown> {
  await initBackend();
  const objective: AnyObjective = objectives[0] as AnyObjective;
  // A problem: θ ~ N(0, 1), x = θ + N(0, 1). The trainer passes an Rng of @gcvi/runtime as the stream.
  const problem = {
    simulate: (n: number, rng: ReturnType<typeof createRng>) => {
      const theta = rng.normalTensor([n]);
      return { theta, x: tf.tidy(() => tf.reshape(tf.add(theta, rng.normalTensor([n])), [n, 1])) };
    },
  };
  const rng = createRng(0);
  const options = objective.parseOptions(undefined);
  const batch = objective.sampleBatch({ problem, rng, options, batchSize: 4, step: 0 });
  const shapes = Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, t.shape]));
  console.log(shapes); // { theta: [4], x: [4, 1] }
  tf.dispose(Object.values(batch));
  return shapes;
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
