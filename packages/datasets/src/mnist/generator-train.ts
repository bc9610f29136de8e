import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { torchDefaultUniform } from '@gcvi/encoders';
import { adam } from '@gcvi/objectives';
import { ConfigError, createRng, FileFormatError, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import {
  GENERATOR_LATENT_DIM,
  GENERATOR_PARAM_NAMES,
  type GeneratorParams,
  generatorApply,
} from './generator.js';
import { loadGenerator, saveGenerator } from './generator-file.js';
import { type MnistData, mnistImagesTensor } from './idx.js';

/** Training G as the decoder of a VAE on MNIST. */
export interface TrainGeneratorOptions {
  readonly data: MnistData;
  /** Must be 64, the latent size of `generatorMlp` (accepted for old configs). */
  readonly latentDim?: number;
  /** Hidden width of G (and of the VAE encoder); 256 for the E3 architecture. */
  readonly hidden?: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate?: number;
  readonly seed: number;
  /** Where trained weights are cached (keyed by a hash of data + config). */
  readonly cacheDir?: string;
  /** Called every `logEvery` steps with the mean negative ELBO per image. */
  readonly onProgress?: (step: number, loss: number) => void;
  readonly logEvery?: number;
}

export interface TrainedGenerator {
  readonly params: GeneratorParams;
  readonly latentDim: number;
  /** Cache key: hash of (data fingerprint, config, format version). */
  readonly key: string;
  /** The weights file (when `cacheDir` was given). */
  readonly file?: string;
  /** True when loaded from the cache instead of trained. */
  readonly cached: boolean;
  /** Negative ELBO per image (nats) averaged over the last 10% of steps (as recorded at training time). */
  readonly finalLoss: number;
  /** Wall-clock training time in ms (as recorded at training time). */
  readonly trainMs: number;
}

/** Version of the training recipe and weights file; part of the cache key. */
const CACHE_VERSION = 2;

/** Cache key of a generator training config. */
export function generatorCacheKey(options: TrainGeneratorOptions): string {
  const cfg = {
    v: CACHE_VERSION,
    data: options.data.fingerprint,
    latentDim: GENERATOR_LATENT_DIM,
    hidden: options.hidden ?? 256,
    steps: options.steps,
    batchSize: options.batchSize,
    learningRate: options.learningRate ?? 1e-3,
    seed: options.seed,
  };
  return createHash('sha256').update(JSON.stringify(cfg)).digest('hex').slice(0, 16);
}

/** The cache file of a training config under `cacheDir`: `generator-<key>.tensors`. */
export function generatorCacheFile(cacheDir: string, options: TrainGeneratorOptions): string {
  return join(cacheDir, `generator-${generatorCacheKey(options)}.tensors`);
}

/** Linear layer `name` with PyTorch's default init U(−1/√in, 1/√in) for weight and bias. */
function initLinear(rng: Rng, name: string, out: number, inp: number): GeneratorParams {
  return {
    [`${name}.weight`]: torchDefaultUniform(rng.split(`${name}.weight`), [out, inp], inp),
    [`${name}.bias`]: torchDefaultUniform(rng.split(`${name}.bias`), [out], inp),
  };
}

function checkOptions(options: TrainGeneratorOptions): void {
  const { data, steps, batchSize } = options;
  const lr = options.learningRate ?? 1e-3;
  if (!Number.isInteger(steps) || steps <= 0)
    throw new ConfigError('steps', `must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > data.count) {
    throw new ConfigError('batchSize', `must be an integer in [1, ${data.count}], got ${batchSize}`);
  }
  if (options.latentDim !== undefined && options.latentDim !== GENERATOR_LATENT_DIM) {
    throw new ConfigError(
      'latentDim',
      `must be ${GENERATOR_LATENT_DIM} (the E3 generator's latent size), got ${options.latentDim}`,
    );
  }
  const hidden = options.hidden ?? 256;
  if (!Number.isInteger(hidden) || hidden <= 0)
    throw new ConfigError('hidden', `must be a positive integer, got ${hidden}`);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new ConfigError('learningRate', `must be positive, got ${lr}`);
}

/**
 * Train G (`generatorMlp`) as the decoder of a VAE on MNIST: Bernoulli likelihood on pixel
 * intensities with p = (G(z) + 1)/2 = sigmoid(2a), encoder MLP 784 → hidden → ReLU → 2·64 giving
 * means and log-sds, standard normal prior, `@gcvi/objectives`' Adam. With `cacheDir`, the weights
 * are keyed by `generatorCacheKey` and reused when present; otherwise trained and written atomically.
 */
export function trainGenerator(options: TrainGeneratorOptions): TrainedGenerator {
  checkOptions(options);
  const latentDim = GENERATOR_LATENT_DIM;
  const hidden = options.hidden ?? 256;
  const lr = options.learningRate ?? 1e-3;
  const { data, steps, batchSize, seed } = options;
  const key = generatorCacheKey(options);
  const file = options.cacheDir ? generatorCacheFile(options.cacheDir, options) : undefined;
  if (file && existsSync(file)) {
    const got = loadGenerator(file);
    if (got.key !== key) throw new FileFormatError(file, `holds weights for key ${got.key}, expected ${key}`);
    return {
      params: got.params,
      latentDim,
      key,
      file,
      cached: true,
      finalLoss: got.finalLoss,
      trainMs: got.trainMs,
    };
  }
  const t0 = Date.now();
  const rng = createRng(seed);
  const initRng = rng.split('init');
  const batchRng = rng.split('batches');
  const noiseRng = rng.split('noise');
  const init: GeneratorParams = {
    ...initLinear(initRng, '0', hidden, latentDim),
    ...initLinear(initRng, '2', hidden, hidden),
    ...initLinear(initRng, '4', 784, hidden),
    ...initLinear(initRng, 'enc0', hidden, 784),
    ...initLinear(initRng, 'enc2', 2 * latentDim, hidden),
  };
  const vars: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(init)) {
    vars[name] = tf.variable(t, true);
    t.dispose();
  }
  const varList = Object.values(vars);
  const nameOf = new Map(Object.entries(vars).map(([k, v]) => [v.name, k]));
  const optimizer = adam({ lr });
  optimizer.init(vars);
  const lin = (x: tf.Tensor, k: string) =>
    tf.add(
      tf.matMul(x as tf.Tensor2D, vars[`${k}.weight`] as tf.Tensor2D, false, true),
      vars[`${k}.bias`] as tf.Tensor,
    );
  const tail = Math.max(1, Math.floor(steps / 10));
  let tailSum = 0;
  let tailN = 0;
  let perm = batchRng.permutation(data.count);
  let cursor = 0;
  const logEvery = options.logEvery ?? 100;
  try {
    for (let step = 0; step < steps; step++) {
      if (cursor + batchSize > data.count) {
        perm = batchRng.permutation(data.count);
        cursor = 0;
      }
      const idx = perm.subarray(cursor, cursor + batchSize);
      cursor += batchSize;
      const x = tf.tidy(() => tf.reshape(mnistImagesTensor(data, idx), [batchSize, 784]));
      const eps = noiseRng.normalTensor([batchSize, latentDim]);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const out = lin(tf.relu(lin(x, 'enc0')), 'enc2');
            const mu = tf.slice(out, [0, 0], [batchSize, latentDim]);
            const logSd = tf.clipByValue(tf.slice(out, [0, latentDim], [batchSize, latentDim]), -8, 4);
            const z = tf.add(mu, tf.mul(tf.exp(logSd), eps));
            // G(z) = tanh(a) (generatorMlp); Bernoulli(p = (G + 1)/2 = sigmoid(2a)) on intensities x:
            // −log p(x) = softplus(l) − x·l with l = 2a = 2 atanh(G). G is clipped to ±(1 − 1e-6) first,
            // where float32 tanh has not yet rounded to ±1 (|l| ≤ 14.5: a pixel loss of ≤ 5e-7).
            const g = tf.clipByValue(generatorApply(vars, z), -1 + 1e-6, 1 - 1e-6);
            const l = tf.mul(tf.atanh(g), 2);
            const recon = tf.sum(tf.sub(tf.softplus(l), tf.mul(x, l)), 1);
            const kl = tf.mul(
              0.5,
              tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(tf.mul(logSd, 2))), tf.add(tf.mul(logSd, 2), 1)), 1),
            );
            return tf.mean(tf.add(recon, kl)) as tf.Scalar;
          }),
        varList,
      );
      const lossV = value.dataSync()[0] as number;
      const named: Record<string, tf.Tensor> = {};
      for (const [vn, g] of Object.entries(grads)) named[nameOf.get(vn) as string] = g;
      if (Number.isFinite(lossV)) optimizer.apply(named, lr, 1);
      tf.dispose([x, eps, value, ...Object.values(grads)]);
      if (!Number.isFinite(lossV)) {
        throw new ConfigError('learningRate', `training diverged at step ${step} (loss ${lossV})`);
      }
      if (step >= steps - tail) {
        tailSum += lossV;
        tailN++;
      }
      if (options.onProgress && (step % logEvery === 0 || step === steps - 1))
        options.onProgress(step, lossV);
    }
  } finally {
    optimizer.dispose();
  }
  const params: GeneratorParams = {};
  for (const name of GENERATOR_PARAM_NAMES) params[name] = tf.clone(vars[name] as tf.Variable);
  for (const v of varList) v.dispose();
  const finalLoss = tailSum / tailN;
  const trainMs = Date.now() - t0;
  if (file && options.cacheDir) {
    mkdirSync(options.cacheDir, { recursive: true });
    saveGenerator(file, params, { key, finalLoss, trainMs });
  }
  return { params, latentDim, key, ...(file ? { file } : {}), cached: false, finalLoss, trainMs };
}
