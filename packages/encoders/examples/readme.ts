import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  dense,
  encoderFromSpec,
  jvp,
  linearize,
  loadParams,
  saveParams,
  setTransformer,
} from '@gcvi/encoders';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend();
  const rng = createRng(0);

  // E1: one hidden ReLU layer of width 256 in the NTK parameterization (last layer zero at init).
  const net = dense({ inputSize: 2, hiddenSizes: [256], outputSize: 2 });
  const phi0 = net.init(rng.split('init'));
  const x = rng.split('data').normalTensor([16, 2]);

  // Its linearized twin f0 + J0 (φ − φ0): same parameters, trained like any encoder.
  const twin = linearize(net, phi0);
  const phi = twin.init(rng); // starts at φ0
  const grads = tf.grads((w0: tf.Tensor, w1: tf.Tensor) => tf.sum(twin.apply({ w0, w1 }, x)))([
    phi.w0!,
    phi.w1!,
  ]);
  // At φ0 the first layer's Jacobian vanishes: the twin only moves the last layer.
  const firstLayerGrad = tf.max(tf.abs(grads[0]!)).dataSync()[0];

  // A Jacobian–vector product, closed form vs the general double-VJP trick.
  const v = { w0: rng.normalTensor([2, 256]), w1: rng.normalTensor([256, 2]) };
  const gap = tf.max(tf.abs(tf.sub(jvp(net, phi0, x, v), jvp(net, phi0, x, v, { method: 'double-vjp' }))));

  // E2: a Set Transformer over sets of 100 scalars, 5 outputs of 2 numbers per set.
  const st = setTransformer({ inputSize: 1, width: 64, heads: 4, seeds: 5, outputSize: 2 });
  const stParams = st.init(rng.split('st'));
  const out = st.apply(stParams, rng.normalTensor([3, 100, 1])); // [3, 5, 2]

  // Save and reload (versioned file, atomic write), then rebuild the encoder from its spec.
  const dir = await mkdtemp(join(tmpdir(), 'gcvi-readme-'));
  const file = join(dir, 'st.gcvip');
  await saveParams(file, st.spec, stParams);
  const loaded = await loadParams(file);
  const again = encoderFromSpec(loaded.spec);
  await rm(dirname(file), { recursive: true });

  return {
    firstLayerGrad, // 0
    jvpGap: gap.dataSync()[0], // ~1e-7
    setOutputShape: out.shape, // [3, 5, 2]
    rebuilt: again.spec.kind, // 'set-transformer'
  };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
