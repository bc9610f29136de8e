/**
 * Timing of encoder forward+backward passes on the current backend (GCVI_BACKEND or auto).
 * Run: `npx tsx --conditions=@gcvi/source bench/encoders.ts` from packages/encoders.
 */
import { createRng, describeBackend, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import {
  dense,
  type Encoder,
  linearize,
  mnistAngleEncoder,
  mnistLatentEncoder,
  setTransformer,
} from '../src/index.js';

function timeStep(name: string, enc: Encoder, x: tf.Tensor, reps: number): void {
  const p = enc.init(createRng(1));
  const names = enc.paramSpecs.map((s) => s.name);
  const step = () =>
    tf.tidy(() => {
      const g = tf.grads((...ps: tf.Tensor[]) =>
        tf.sum(tf.square(enc.apply(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x))),
      )(names.map((n) => p[n]!));
      g[0]!.dataSync();
    });
  step();
  step();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) step();
  const ms = (performance.now() - t0) / reps;
  console.log(`${name.padEnd(48)} ${ms.toFixed(2)} ms / fwd+bwd`);
}

const info = await initBackend();
console.log(describeBackend(info));
const rng = createRng(0);
for (const w of [64, 1024, 4096]) {
  const net = dense({ inputSize: 2, hiddenSizes: [w], outputSize: 2 });
  timeStep(`E1 dense width ${w}, batch 16`, net, rng.normalTensor([16, 2]), 200);
  const lin = linearize(net, net.init(createRng(2)));
  timeStep(`E1 linearized (closed form) width ${w}, batch 16`, lin, rng.normalTensor([16, 2]), 200);
}
const netSmall = dense({ inputSize: 2, hiddenSizes: [1024], outputSize: 2 });
timeStep(
  'E1 linearized (double-VJP) width 1024, batch 16',
  linearize(netSmall, netSmall.init(createRng(3)), { method: 'double-vjp' }),
  rng.normalTensor([16, 2]),
  100,
);
for (const n of [100, 1000]) {
  const st = setTransformer({ inputSize: 1, width: 64, heads: 4, seeds: 5, outputSize: 2 });
  timeStep(`E2 set transformer, 1 set of ${n}`, st, rng.normalTensor([1, n, 1]), n === 1000 ? 5 : 30);
}
timeStep(
  'E3 angle encoder, 1 set of 100 images',
  mnistAngleEncoder(),
  rng.uniformTensor([1, 100, 28, 28]),
  10,
);
timeStep(
  'E3 angle encoder, 1 set of 1000 images',
  mnistAngleEncoder(),
  rng.uniformTensor([1, 1000, 28, 28]),
  3,
);
timeStep('E3 latent encoder, 32 images', mnistLatentEncoder(), rng.uniformTensor([32, 28, 28]), 50);
