/**
 * Cost of one NSF training step (value and gradient of the mean −log q(θ | context) in every
 * weight), sbi's NSF defaults (5 layers, 10 bins, 50 hidden), batch 200: tfjs kernels dispatched
 * per step (counted with tf.profile; independent of machine load) and steps per second.
 *
 *   node --import tsx bench/step.ts [dims=2,5,10] [seconds=10]     (LU=0: without the LU layers)
 */
import { nsf } from '@gcvi/flows';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

const dims = (process.argv[2] ?? '2,5,10').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 10);
const info = await initBackend();
for (const dim of dims) {
  const ctxDim = Math.max(4, 2 * dim);
  const flow = nsf({
    dim,
    contextDim: ctxDim,
    lu: process.env.LU !== '0',
    box: { low: Array(dim).fill(-3), high: Array(dim).fill(3) },
  });
  const rng = createRng(1);
  const params = Object.fromEntries(Object.entries(flow.init(rng)).map(([k, v]) => [k, tf.variable(v)]));
  const theta = rng.uniformTensor([200, dim], -2.9, 2.9);
  const ctx = rng.normalTensor([200, ctxDim]);
  const vars = Object.values(params);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.neg(tf.mean(flow.logProb(params, theta, ctx))) as tf.Scalar,
        vars,
      );
      value.dataSync();
      tf.dispose(Object.values(grads));
    });
  step();
  const prof = await tf.profile(() => step());
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    step();
    n++;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  const byName = new Map<string, number>();
  for (const k of prof.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  const top = [...byName.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10);
  console.log(
    `  top kernels: ${top.map(([k, c]) => `${k} ${c}`).join(', ')}; ${(1000 / rate).toFixed(1)} ms/step`,
  );
  console.log(
    `backend ${info.name} dim ${dim}: ${prof.kernels.length} kernels/step, ${rate.toFixed(2)} steps/s (${n} steps; machine load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`,
  );
}
