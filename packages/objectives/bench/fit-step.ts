/**
 * Speed of one `fit` step on the E1 configuration (DESIGN §2): L_P with 16 fresh pairs per step, a
 * one-hidden-layer NTK dense encoder 2 → W → 2, q = von Mises in natural parameters, Adam with the
 * inverse-time schedule. Prints ms/step per width. Run: `pnpm bench` in this package.
 */
import { VonMises } from '@gcvi/distributions';
import { dense } from '@gcvi/encoders';
import type { Problem } from '@gcvi/objective-contract';
import { adam, fit, inverseTimeLr } from '@gcvi/objectives';
import { backendInfo, createRng, describeBackend, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

const problem: Problem = {
  simulate: (n, rng) =>
    tf.tidy(() => {
      const theta = rng.uniformTensor([n], 0, 2 * Math.PI);
      const phi = tf.add(theta, rng.normalTensor([n], 0, 0.5));
      return { theta, x: tf.stack([tf.cos(phi), tf.sin(phi)], 1) };
    }),
};

async function time(width: number, steps: number): Promise<number> {
  const enc = dense({ inputSize: 2, hiddenSizes: [width], outputSize: 2 });
  const init = enc.init(createRng(1).split('init'));
  const params = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, tf.variable(t, true)]));
  tf.dispose(Object.values(init));
  const variational = (p: Record<string, tf.Variable>, x: tf.Tensor) =>
    VonMises.fromNatural(tf.add(enc.apply(p, x), 1e-4), { validateArgs: false });
  const common = {
    params,
    variational,
    objective: 'forward-kl',
    problem,
    schedule: inverseTimeLr(1e-4, 10),
    batchSize: 16,
  };
  // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
  await fit({ ...common, optimizer: adam(), steps: 200, rng: createRng(2) }); // warm-up (kernel compilation)
  const t0 = performance.now();
  // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
  await fit({ ...common, optimizer: adam(), steps, rng: createRng(3) });
  const ms = (performance.now() - t0) / steps;
  tf.dispose(Object.values(params));
  return ms;
}

await initBackend();
console.log(describeBackend(backendInfo()!));
await time(64, 500); // process-wide warm-up (JIT), not reported
for (const width of (process.env.WIDTHS ?? '64,1024,4096').split(',').map(Number)) {
  const ms = await time(width, width >= 4096 ? 300 : 1000);
  console.log(`E1 fit step, width ${width}: ${ms.toFixed(2)} ms/step (${(1000 / ms).toFixed(0)} steps/s)`);
}
