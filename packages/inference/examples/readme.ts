import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amortize, gaussianDiag, loadPosterior, type Simulator, sbc } from '@gcvi/inference';
import { sbcEcdfSpec, writeFigure } from '@gcvi/plots';
import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

// Your model: θ ~ N(0, I₂); x = five noisy measurements (sd 0.5) of each coordinate of θ.
const simulator: Simulator = {
  sample(n: number, rng: Rng) {
    const theta = rng.normalTensor([n, 2]);
    const noise = rng.normalTensor([n, 10], 0, 0.5);
    const x = tf.add(tf.tile(theta, [1, 5]), noise);
    noise.dispose();
    return { theta, x };
  },
};

export async function main() {
  await initBackend(); // tfjs-node if installed, else wasm, else cpu
  const out = mkdtempSync(join(tmpdir(), 'gcvi-readme-'));
  const rng = createRng(0);

  // 1. amortize: a family for θ (here independent Gaussians in natural parameters) and the
  //    default encoder (ReLU network with biases; inputs standardized from a pilot batch).
  const estimator = amortize({ simulator, family: gaussianDiag({ dim: 2 }), seed: 1 });

  // 2. train on fresh simulations every step (the paper's L_P); or `{ simulations: N }` for a
  //    fixed budget with epochs, a validation split and early stopping.
  const result = await estimator.train({ steps: 1000, batchSize: 128, learningRate: 3e-3 });

  // 3. the posterior: sample, score, summarize at an observation.
  const posterior = estimator.posterior();
  const xo = [0.5, -1, 0.5, -1, 0.5, -1, 0.5, -1, 0.5, -1]; // x = (θ1, θ2) repeated 5 times, plus noise
  const draws = posterior.sample(xo, 1000, rng.split('draws')); // [1000, 2]
  const mean = Array.from(posterior.mean(xo).dataSync());
  // exact posterior mean here: (Σ x / 0.25) / (1 + 5 / 0.25) per coordinate
  const exactMean = [(5 * 0.5) / 0.25 / 21, (5 * -1) / 0.25 / 21];

  // Simulation-based calibration on 200 fresh pairs, and its ECDF figure (SVG, PNG, CSV).
  const test = simulator.sample(200, rng.split('test'));
  const check = sbc(posterior, { pairs: { theta: test.theta, x: test.x }, rng: rng.split('sbc') });
  const figure = await writeFigure(out, { name: 'sbc', ...sbcEcdfSpec(check) });

  // Save as one versioned file; load it back (e.g. in another program, after an upgrade).
  const file = join(out, 'posterior.gcvi');
  posterior.save(file);
  const loaded = loadPosterior(file);
  const same = tf.tidy(
    () => tf.max(tf.abs(tf.sub(loaded.logProb(draws, xo), posterior.logProb(draws, xo)))).dataSync()[0],
  );

  tf.dispose([draws, test.theta, test.x]);
  for (const o of [estimator, posterior, loaded]) o.dispose();
  return {
    finalLoss: result.history.loss.at(-1),
    mean,
    exactMean,
    sbcWithinBand: check.dims.map((d) => d.withinBand),
    sbcSettings: check.settings,
    figure: figure.svg,
    loadedMaxDifference: same,
  };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
