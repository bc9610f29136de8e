import { Normal } from '@gcvi/distributions';
import type { Objective } from '@gcvi/objective-contract';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import { adam, createRegistry, fit, forwardKl, stepDivideLr } from '@gcvi/objectives';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

// 1. Write an objective: a plain value. This one is L_P (forward KL) written from scratch.
interface MyOptions {
  readonly batchSize?: number;
}
const myForwardKl: Objective<MyOptions> = {
  name: 'my-forward-kl',
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['simulator'], // the problem must provide simulate(n, rng)
  description: '−mean log q(θ | x) over fresh simulated pairs',
  defaults: {},
  parseOptions: (raw) => ({ ...(raw as MyOptions | undefined) }),
  // Outside the gradient: draw what the step needs.
  sampleBatch: ({ problem, rng, options, batchSize }) => {
    const { theta, x } = problem.simulate!(options.batchSize ?? batchSize, rng);
    return { theta, x };
  },
  // A pure function of the parameters (reached through ctx.q) and the batch.
  loss: ({ batch, q }) =>
    tf.tidy(() => tf.neg(tf.mean<tf.Scalar>(q(batch.x as tf.Tensor).logProb(batch.theta as tf.Tensor)))),
};

export async function main(): Promise<unknown> {
  await initBackend();
  // 2. Register it (here in a fresh registry; `registerObjective` adds to the default one).
  const objectives = createRegistry([forwardKl, myForwardKl]);

  // 3. A problem: θ ~ N(0, 1), x | θ ~ N(θ, 1). The exact posterior is N(x/2, 1/2).
  const problem = {
    simulate: (n: number, rng: { normalTensor(shape: number[]): tf.Tensor }) =>
      tf.tidy(() => {
        const theta = rng.normalTensor([n]);
        return { theta, x: tf.reshape(tf.add(theta, rng.normalTensor([n])), [n, 1]) };
      }),
  };

  // 4. An encoder and q: q(θ | x) = Normal(a·x + b, exp(c·x + d)).
  const params = tf.tidy(() => ({
    a: tf.variable(tf.scalar(0)),
    b: tf.variable(tf.scalar(0)),
    c: tf.variable(tf.scalar(0)),
    d: tf.variable(tf.scalar(0)),
  }));
  const variational = (p: typeof params, x: tf.Tensor) => {
    const xr = tf.reshape(x, [-1]);
    const loc = tf.add(tf.mul(p.a, xr), p.b);
    const scale = tf.exp(tf.add(tf.mul(p.c, xr), p.d));
    return new Normal(loc, scale, { validateArgs: false });
  };

  // 5. Fit it by name.
  // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
  const result = await fit({
    params,
    variational,
    objective: 'my-forward-kl',
    registry: objectives,
    problem,
    optimizer: adam(),
    schedule: stepDivideLr(0.05, 100),
    steps: 600,
    batchSize: 256,
    rng: createRng(7).split('train'),
    callbacks: {
      progressEvery: 200,
      onProgress: (p) => console.log(`step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)}`),
    },
  });
  const slope = params.a.dataSync()[0] as number;
  const variance = Math.exp(2 * (params.d.dataSync()[0] as number));
  console.log(`slope ${slope.toFixed(3)} (exact 0.5), variance ${variance.toFixed(3)} (exact 0.5)`);
  tf.dispose(Object.values(params));
  return { slope, variance, stepsDone: result.stepsDone };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
