import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { denseLayer, GcviDenseLayer, hasFusedKernel } from '@gcvi/kernels';
import { ConfigError, createRng, FileFormatError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { type MnistData, mnistImagesTensor } from './idx.js';
import type { TorchStateDict } from './torch.js';

/**
 * The E3 generator G: MLP 64 → 256 → ReLU → 256 → ReLU → 784 → tanh, with PyTorch parameter names
 * (`0.weight` [256, 64], `0.bias`, `2.weight`, `2.bias`, `4.weight` [784, 256], `4.bias`; weights
 * are [out, in] as in `torch.nn.Linear`). Images are (G(z) + 1) / 2 clamped to [0, 1].
 */
export type GeneratorParams = Record<string, tf.Tensor>;

export const GENERATOR_PARAM_NAMES = [
  '0.weight',
  '0.bias',
  '2.weight',
  '2.bias',
  '4.weight',
  '4.bias',
] as const;

/** Expected shapes of the generator parameters for a latent size and hidden width. */
export function generatorParamShapes(latentDim = 64, hidden = 256, pixels = 784): Record<string, number[]> {
  return {
    '0.weight': [hidden, latentDim],
    '0.bias': [hidden],
    '2.weight': [hidden, hidden],
    '2.bias': [hidden],
    '4.weight': [pixels, hidden],
    '4.bias': [pixels],
  };
}

/** Latent size of a parameter set (columns of `0.weight`), after checking all names and shapes. */
export function checkGeneratorParams(params: GeneratorParams, argument = 'generator'): number {
  const w0 = params['0.weight'];
  if (!w0 || w0.rank !== 2)
    throw new ConfigError(argument, "missing '0.weight' of shape [hidden, latentDim]");
  const [hidden, latentDim] = w0.shape as [number, number];
  const shapes = generatorParamShapes(latentDim, hidden);
  for (const name of GENERATOR_PARAM_NAMES) {
    const t = params[name];
    if (!t) throw new ConfigError(argument, `missing parameter '${name}'`);
    const want = shapes[name] as number[];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${argument}['${name}']`, `[${want.join(', ')}]`, t.shape);
    }
  }
  return latentDim;
}

/**
 * G(z) before the rescale: `[n, 784]` in (−1, 1). On wasm and cpu each layer is one `denseLayer`
 * kernel of @gcvi/kernels (SIMD GEMM with bias and activation fused; PyTorch's [out, in] layout).
 */
export function generatorApply(params: GeneratorParams, z: tf.Tensor): tf.Tensor2D {
  if (hasFusedKernel(GcviDenseLayer) && z.dtype === 'float32') {
    return tf.tidy(() => {
      const lin = (x: tf.Tensor, k: string, activation: 'relu' | 'tanh') =>
        denseLayer(x, params[`${k}.weight`] as tf.Tensor, params[`${k}.bias`] as tf.Tensor, {
          activation,
          transposeW: true,
        });
      return lin(lin(lin(z, '0', 'relu'), '2', 'relu'), '4', 'tanh');
    });
  }
  return tf.tidy(() => {
    const lin = (x: tf.Tensor, k: string) =>
      tf.add(
        tf.matMul(x as tf.Tensor2D, params[`${k}.weight`] as tf.Tensor2D, false, true),
        params[`${k}.bias`] as tf.Tensor,
      );
    const h1 = tf.relu(lin(z, '0'));
    const h2 = tf.relu(lin(h1, '2'));
    return tf.tanh(lin(h2, '4')) as tf.Tensor2D;
  });
}

/** Images of latents: (G(z) + 1) / 2 clamped to [0, 1], shape `[n, 28, 28]`. */
export function generateImages(params: GeneratorParams, z: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const g = generatorApply(params, z);
    const img = tf.clipByValue(tf.div(tf.add(g, 1), 2), 0, 1);
    return tf.reshape(img, [z.shape[0] as number, 28, 28]) as tf.Tensor3D;
  });
}

/** Generator parameters as tensors from a PyTorch state dict (e.g. `loadTorchCheckpoint`). */
export function generatorFromStateDict(sd: TorchStateDict, file = 'checkpoint'): GeneratorParams {
  const out: GeneratorParams = {};
  for (const name of GENERATOR_PARAM_NAMES) {
    const t = sd[name];
    if (!t) {
      tf.dispose(Object.values(out));
      throw new FileFormatError(file, `no '${name}' in the state dict (keys: ${Object.keys(sd).join(', ')})`);
    }
    out[name] = tf.tensor(t.data, [...t.shape], 'float32');
  }
  try {
    checkGeneratorParams(out, file);
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Training: a VAE whose decoder is G.

export interface TrainGeneratorOptions {
  readonly data: MnistData;
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

const CACHE_VERSION = 1;

/** Cache key of a generator training config. */
export function generatorCacheKey(options: TrainGeneratorOptions): string {
  const cfg = {
    v: CACHE_VERSION,
    data: options.data.fingerprint,
    latentDim: options.latentDim ?? 64,
    hidden: options.hidden ?? 256,
    steps: options.steps,
    batchSize: options.batchSize,
    learningRate: options.learningRate ?? 1e-3,
    seed: options.seed,
  };
  return createHash('sha256').update(JSON.stringify(cfg)).digest('hex').slice(0, 16);
}

interface CachedFile {
  format: 'gcvi-generator';
  version: number;
  key: string;
  latentDim: number;
  finalLoss: number;
  trainMs: number;
  params: Record<string, { shape: number[]; data: string }>;
}

/** Save generator weights as JSON (float32 base64), atomically (temp file, then rename). */
export function saveGenerator(
  file: string,
  params: GeneratorParams,
  meta: { key: string; finalLoss: number; trainMs: number },
): void {
  const latentDim = checkGeneratorParams(params);
  const out: CachedFile = {
    format: 'gcvi-generator',
    version: CACHE_VERSION,
    latentDim,
    ...meta,
    params: {},
  };
  for (const name of GENERATOR_PARAM_NAMES) {
    const t = params[name] as tf.Tensor;
    const data = t.dataSync() as Float32Array;
    out.params[name] = {
      shape: [...t.shape],
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    };
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(out));
  renameSync(tmp, file);
}

/** Load weights written by `saveGenerator`; a bad file is a `FileFormatError` naming it. */
export function loadGenerator(file: string): {
  params: GeneratorParams;
  key: string;
  finalLoss: number;
  trainMs: number;
} {
  let parsed: CachedFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as CachedFile;
  } catch (e) {
    throw new FileFormatError(file, `cannot read generator weights: ${(e as Error).message}`, { cause: e });
  }
  if (parsed?.format !== 'gcvi-generator' || parsed.version !== CACHE_VERSION || !parsed.params) {
    throw new FileFormatError(file, 'not a gcvi generator weights file of this version');
  }
  const params: GeneratorParams = {};
  for (const name of GENERATOR_PARAM_NAMES) {
    const p = parsed.params[name];
    const bytes = p ? Buffer.from(p.data, 'base64') : undefined;
    const size = p ? p.shape.reduce((a, b) => a * b, 1) : 0;
    if (!p || !bytes || bytes.length !== size * 4) {
      tf.dispose(Object.values(params));
      throw new FileFormatError(file, `parameter '${name}' missing or of the wrong size`);
    }
    const arr = new Float32Array(size);
    new Uint8Array(arr.buffer).set(bytes);
    params[name] = tf.tensor(arr, p.shape, 'float32');
  }
  checkGeneratorParams(params, file);
  return { params, key: parsed.key, finalLoss: parsed.finalLoss, trainMs: parsed.trainMs };
}

function initLinear(rng: Rng, out: number, inp: number): [tf.Tensor, tf.Tensor] {
  // PyTorch's nn.Linear default: U(−1/√in, 1/√in) for weight and bias.
  const b = 1 / Math.sqrt(inp);
  return [rng.uniformTensor([out, inp], -b, b), rng.uniformTensor([out], -b, b)];
}

/**
 * Train G as the decoder of a VAE on MNIST (Bernoulli likelihood on pixel intensities with
 * p = (G(z) + 1)/2 = sigmoid(2 a), encoder MLP 784 → hidden → ReLU → 2·latentDim giving means and
 * log-sds, standard normal prior, Adam). With `cacheDir`, the weights are keyed by
 * `generatorCacheKey` and reused when present; otherwise trained and written atomically.
 */
export function trainGenerator(options: TrainGeneratorOptions): TrainedGenerator {
  const latentDim = options.latentDim ?? 64;
  const hidden = options.hidden ?? 256;
  const lr = options.learningRate ?? 1e-3;
  const { data, steps, batchSize, seed } = options;
  if (!Number.isInteger(steps) || steps <= 0)
    throw new ConfigError('steps', `must be a positive integer, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > data.count) {
    throw new ConfigError('batchSize', `must be an integer in [1, ${data.count}], got ${batchSize}`);
  }
  if (!Number.isInteger(latentDim) || latentDim <= 0)
    throw new ConfigError('latentDim', `must be a positive integer`);
  if (!(lr > 0)) throw new ConfigError('learningRate', `must be positive, got ${lr}`);
  const key = generatorCacheKey(options);
  const file = options.cacheDir ? join(options.cacheDir, `generator-${key}.json`) : undefined;
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
  const vars: Record<string, tf.Variable> = {};
  const mk = (name: string, t: tf.Tensor) => {
    vars[name] = tf.variable(t, true, `gen-${key}-${name}`);
    t.dispose();
  };
  const dims: [string, number, number][] = [
    ['0', hidden, latentDim],
    ['2', hidden, hidden],
    ['4', 784, hidden],
    ['enc0', hidden, 784],
    ['enc2', 2 * latentDim, hidden],
  ];
  for (const [name, o, i] of dims) {
    const [w, b] = initLinear(initRng, o, i);
    mk(`${name}.weight`, w);
    mk(`${name}.bias`, b);
  }
  const optimizer = tf.train.adam(lr);
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
  for (let step = 0; step < steps; step++) {
    if (cursor + batchSize > data.count) {
      perm = batchRng.permutation(data.count);
      cursor = 0;
    }
    const x = tf.reshape(mnistImagesTensor(data, perm.subarray(cursor, cursor + batchSize)), [
      batchSize,
      784,
    ]);
    cursor += batchSize;
    const eps = noiseRng.normalTensor([batchSize, latentDim]);
    const lossT = optimizer.minimize(
      () =>
        tf.tidy(() => {
          const h = tf.relu(lin(x, 'enc0'));
          const out = lin(h, 'enc2');
          const mu = tf.slice(out, [0, 0], [batchSize, latentDim]);
          const logSd = tf.clipByValue(tf.slice(out, [0, latentDim], [batchSize, latentDim]), -8, 4);
          const z = tf.add(mu, tf.mul(tf.exp(logSd), eps));
          const a = lin(tf.relu(lin(tf.relu(lin(z, '0')), '2')), '4');
          // Bernoulli(p = sigmoid(2a)) log-likelihood of intensities x: x·l − softplus(l), l = 2a.
          const l = tf.mul(a, 2);
          const recon = tf.sum(tf.sub(tf.softplus(l), tf.mul(x, l)), 1);
          const kl = tf.mul(
            0.5,
            tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(tf.mul(logSd, 2))), tf.add(tf.mul(logSd, 2), 1)), 1),
          );
          return tf.mean(tf.add(recon, kl)) as tf.Scalar;
        }),
      true,
    ) as tf.Scalar;
    const lossV = lossT.dataSync()[0] as number;
    tf.dispose([x, eps, lossT]);
    if (!Number.isFinite(lossV))
      throw new ConfigError('learningRate', `training diverged at step ${step} (loss ${lossV})`);
    if (step >= steps - tail) {
      tailSum += lossV;
      tailN++;
    }
    if (options.onProgress && (step % logEvery === 0 || step === steps - 1)) options.onProgress(step, lossV);
  }
  optimizer.dispose();
  const params: GeneratorParams = {};
  for (const name of GENERATOR_PARAM_NAMES) params[name] = tf.clone(vars[name] as tf.Variable);
  for (const v of Object.values(vars)) v.dispose();
  const finalLoss = tailSum / tailN;
  const trainMs = Date.now() - t0;
  if (file && options.cacheDir) {
    mkdirSync(options.cacheDir, { recursive: true });
    saveGenerator(file, params, { key, finalLoss, trainMs });
  }
  return { params, latentDim, key, ...(file ? { file } : {}), cached: false, finalLoss, trainMs };
}

// ------------------------------------------------------------------------------------------------
// Sample grid and a tiny PNG writer (grayscale, no dependencies).

/**
 * A `rows × cols` grid of generated images (z ~ N(0, I) from `rng`), or of given images
 * `[n, 28, 28]`: `{ width, height, pixels }` with pixels in [0, 1], row-major.
 */
export function imageGrid(
  source: { params: GeneratorParams; rng: Rng } | { images: tf.Tensor },
  rows: number,
  cols: number,
  pad = 2,
): { width: number; height: number; pixels: Float32Array } {
  const n = rows * cols;
  let imgs: Float32Array;
  if ('images' in source) {
    if (source.images.rank !== 3 || (source.images.shape[0] as number) < n) {
      throw new ShapeError('images', `[>=${n}, 28, 28]`, source.images.shape);
    }
    imgs = tf.tidy(() => tf.slice(source.images, [0, 0, 0], [n, 28, 28]).dataSync() as Float32Array);
  } else {
    const latentDim = checkGeneratorParams(source.params);
    imgs = tf.tidy(() => {
      const z = source.rng.normalTensor([n, latentDim]);
      return generateImages(source.params, z).dataSync() as Float32Array;
    });
  }
  const width = cols * 28 + (cols + 1) * pad;
  const height = rows * 28 + (rows + 1) * pad;
  const pixels = new Float32Array(width * height).fill(1);
  for (let k = 0; k < n; k++) {
    const r0 = pad + Math.floor(k / cols) * (28 + pad);
    const c0 = pad + (k % cols) * (28 + pad);
    for (let i = 0; i < 28; i++) {
      for (let j = 0; j < 28; j++) pixels[(r0 + i) * width + c0 + j] = imgs[k * 784 + i * 28 + j] as number;
    }
  }
  return { width, height, pixels };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Encode a grayscale image (values in [0, 1], `invert` draws ink dark on white) as PNG bytes.
 */
export function encodePngGray(
  width: number,
  height: number,
  pixels: ArrayLike<number>,
  invert = false,
): Uint8Array {
  if (pixels.length !== width * height)
    throw new ShapeError('pixels', `[${width * height}]`, [pixels.length]);
  const raw = new Uint8Array((width + 1) * height);
  for (let i = 0; i < height; i++) {
    raw[i * (width + 1)] = 0;
    for (let j = 0; j < width; j++) {
      const v = Math.min(1, Math.max(0, pixels[i * width + j] as number));
      raw[i * (width + 1) + 1 + j] = Math.round(255 * (invert ? 1 - v : v));
    }
  }
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, body.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(body, 8);
    dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', new Uint8Array(deflateSync(raw))),
    chunk('IEND', new Uint8Array(0)),
  ];
  const total = parts.reduce((a, p) => a + p.length, 0);
  const png = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    png.set(p, o);
    o += p.length;
  }
  return png;
}
