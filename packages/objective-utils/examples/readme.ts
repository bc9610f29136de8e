import { Normal } from '@gcvi/distributions';
import { OBJECTIVE_CONTRACT_VERSION, type Objective } from '@gcvi/objective-contract';
import {
  importanceLogWeights,
  logMeanExp,
  observedMinibatch,
  optionsObject,
  positiveIntOption,
  rejectUnknown,
  stopGradient,
} from '@gcvi/objective-utils';
import { conformanceChecks } from '@gcvi/objective-utils/test';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

interface MyIwboOptions {
  readonly K: number;
}

// A plugin objective: the negative importance-weighted bound with K plain (non-reparameterized)
// draws and the score-function surrogate, written with the helpers only.
export const myIwbo: Objective<MyIwboOptions> = {
  name: 'my-iwbo',
  contractVersion: OBJECTIVE_CONTRACT_VERSION,
  requires: ['observed', 'logJoint'],
  description: 'negative IWBO, K draws, score-function gradient',
  defaults: { K: 8 },
  parseOptions(raw) {
    const o = optionsObject('my-iwbo', raw); // 'my-iwbo.options: must be an object, …'
    rejectUnknown('my-iwbo', o, ['K']); // 'my-iwbo.options.k: unknown option; known: K'
    return { K: o.K === undefined ? 8 : positiveIntOption('my-iwbo', 'K', o.K) };
  },
  // { x }: a minibatch of problem.observed ('problem.observed: objective 'my-iwbo' requires …' if absent).
  sampleBatch: (ctx) => observedMinibatch('my-iwbo', ctx),
  loss({ batch, q, problem, options, rng }) {
    return tf.tidy((): tf.Scalar => {
      const x = batch.x as tf.Tensor;
      const qx = q(x);
      const z = stopGradient(qx.sample(options.K, rng));
      const { w, logQ } = importanceLogWeights(problem, qx, z, x); // [K, B], shapes checked
      const lme = logMeanExp(w, 0); // [B]
      const s = tf.sum(logQ, 0);
      const surrogate = tf.add(lme, tf.mul(stopGradient(lme), tf.sub(s, stopGradient(s))));
      return tf.neg(tf.mean<tf.Scalar>(surrogate));
    });
  },
};

export async function main(): Promise<unknown> {
  await initBackend();
  // The conformance checks as plain functions (no test framework). The harness is what they need
  // from the host: a seeded stream, a Normal, and (for the fitting check, left out here) a trainer.
  const harness = { createRng, normal: (loc: tf.Tensor, scale: tf.Tensor) => new Normal(loc, scale) };
  const results: string[] = [];
  for (const check of conformanceChecks(myIwbo, harness, { objectiveOptions: { K: 4 } })) {
    await check.run(); // throws a ConformanceError saying what failed
    results.push(`ok: ${check.name}`);
  }
  console.log(results.join('\n'));
  try {
    myIwbo.parseOptions({ K: 0 });
  } catch (e) {
    console.log((e as Error).message); // my-iwbo.options.K: must be a positive integer, got 0
  }
  return { passed: results.length };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
