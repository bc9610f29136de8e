/**
 * Cost of the von Mises log-density and its gradient in natural parameters (what the forward-KL
 * objective of E1/E3 evaluates every step), with the special functions on the host vs as tfjs ops.
 * Run: `pnpm bench` in this package.
 */
import { logI0, setSpecialFunctionMode, VonMises } from '@gcvi/distributions';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';

await initBackend();
const rng = createRng('bench');

for (const batch of [16, 1024]) {
  const eta = rng.normalTensor([batch, 2], 0, 3);
  const theta = rng.uniformTensor([batch], 0, 2 * Math.PI);
  const step = (): void => {
    tf.tidy(() =>
      tf
        .grad((e: tf.Tensor) => tf.sum(VonMises.fromNatural(e, { validateArgs: false }).logProb(theta)))(eta)
        .dataSync(),
    );
  };
  const only = (): void => {
    tf.tidy(() => logI0(tf.norm(eta, 'euclidean', -1)).dataSync());
  };
  describe(`von Mises logProb + gradient, batch ${batch}`, () => {
    bench('host', step, { setup: () => void setSpecialFunctionMode('host') });
    bench('tensor', step, { setup: () => void setSpecialFunctionMode('tensor') });
  });
  describe(`logI0 forward, batch ${batch}`, () => {
    bench('host', only, { setup: () => void setSpecialFunctionMode('host') });
    bench('tensor', only, { setup: () => void setSpecialFunctionMode('tensor') });
  });
}
