import { generatorMlp } from '@gcvi/encoders';
import { ConfigError, checkTensorFinite, FileFormatError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { TorchStateDict } from './torch.js';

/**
 * The E3 generator G is `@gcvi/encoders`' `generatorMlp` (64 → hidden → ReLU → hidden → ReLU → 784
 * → tanh, PyTorch parameter names `0.weight` [hidden, 64], `0.bias`, `2.weight`, `2.bias`,
 * `4.weight` [784, hidden], `4.bias`; weights [out, in] as in `torch.nn.Linear`). The paper's hidden
 * width is 256; smaller widths are allowed (quick profiles). Images are (G(z) + 1) / 2 clamped to
 * [0, 1]. This file holds the parameter checks, the image map and the PyTorch import.
 */
export type GeneratorParams = Record<string, tf.Tensor>;

/** The generator's latent size (fixed by `generatorMlp`). */
export const GENERATOR_LATENT_DIM = 64;

export const GENERATOR_PARAM_NAMES = [
  '0.weight',
  '0.bias',
  '2.weight',
  '2.bias',
  '4.weight',
  '4.bias',
] as const;

const model = generatorMlp();

/** Expected shapes of the generator parameters for a hidden width (default 256). */
export function generatorParamShapes(hidden = 256, pixels = 784): Record<string, number[]> {
  const d = GENERATOR_LATENT_DIM;
  return {
    '0.weight': [hidden, d],
    '0.bias': [hidden],
    '2.weight': [hidden, hidden],
    '2.bias': [hidden],
    '4.weight': [pixels, hidden],
    '4.bias': [pixels],
  };
}

/** Latent size of a parameter set (64), after checking all names and shapes. */
export function checkGeneratorParams(params: GeneratorParams, argument = 'generator'): number {
  const w0 = params['0.weight'];
  if (w0?.rank !== 2) throw new ConfigError(argument, "missing '0.weight' of shape [hidden, 64]");
  const hidden = w0.shape[0] as number;
  const shapes = generatorParamShapes(hidden);
  for (const name of GENERATOR_PARAM_NAMES) {
    const t = params[name];
    if (!t) throw new ConfigError(argument, `missing parameter '${name}'`);
    const want = shapes[name] as number[];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${argument}['${name}']`, `[${want.join(', ')}]`, t.shape);
    }
  }
  return GENERATOR_LATENT_DIM;
}

/** G(z) before the rescale: `[n, 784]` in (−1, 1) (`generatorMlp().apply`). */
export function generatorApply(params: GeneratorParams, z: tf.Tensor): tf.Tensor2D {
  return model.apply(params, z) as tf.Tensor2D;
}

/** Images of latents: (G(z) + 1) / 2 clamped to [0, 1], shape `[n, 28, 28]`. */
export function generateImages(params: GeneratorParams, z: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const g = generatorApply(params, z);
    const img = tf.clipByValue(tf.div(tf.add(g, 1), 2), 0, 1);
    return tf.reshape(img, [z.shape[0] as number, 28, 28]) as tf.Tensor3D;
  });
}

/**
 * Check a loaded parameter set (names, shapes, finite values); on failure dispose it and throw a
 * `FileFormatError` naming `file`.
 */
export function checkLoadedGenerator(params: GeneratorParams, file: string): GeneratorParams {
  try {
    checkGeneratorParams(params, file);
    for (const name of GENERATOR_PARAM_NAMES)
      checkTensorFinite(`${file}: '${name}'`, params[name] as tf.Tensor);
  } catch (e) {
    tf.dispose(Object.values(params));
    if (e instanceof FileFormatError) throw e;
    throw new FileFormatError(file, `not a usable generator: ${(e as Error).message}`, { cause: e });
  }
  return params;
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
  return checkLoadedGenerator(out, file);
}
