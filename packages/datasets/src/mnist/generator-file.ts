import { FileFormatError, fromTensorData, readTensorFile, tensorData, writeTensorFile } from '@gcvi/runtime';
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  checkLoadedGenerator,
  GENERATOR_LATENT_DIM,
  GENERATOR_PARAM_NAMES,
  type GeneratorParams,
  generatorParamShapes,
} from './generator.js';
import { loadTorchCheckpoint } from './torch.js';

/** The tensor-file kind of generator weights. */
export const GENERATOR_FILE_KIND = 'gcvi/generator';

/** What a generator weights file records besides the weights. */
export interface GeneratorFileMeta {
  /** Cache key of the training config (see `generatorCacheKey`). */
  readonly key: string;
  /** Negative ELBO per image at the end of training. */
  readonly finalLoss: number;
  /** Training time in ms. */
  readonly trainMs: number;
}

/**
 * Save generator weights in `@gcvi/runtime`'s named-tensor file format (kind `gcvi/generator`;
 * versioned header, sha256 of the payload, atomic write).
 */
export function saveGenerator(file: string, params: GeneratorParams, meta: GeneratorFileMeta): void {
  checkLoadedGenerator({ ...params }, 'params');
  const tensors = Object.fromEntries(GENERATOR_PARAM_NAMES.map((n) => [n, tensorData(params[n] as Tensor)]));
  writeTensorFile(file, { kind: GENERATOR_FILE_KIND, meta: { ...meta }, tensors });
}

/** Load weights written by `saveGenerator`; a bad file is a `FileFormatError` naming it. */
export function loadGenerator(file: string): GeneratorFileMeta & { params: GeneratorParams } {
  const f = readTensorFile(file, { kind: GENERATOR_FILE_KIND });
  const { key, finalLoss, trainMs } = f.meta as Partial<GeneratorFileMeta>;
  if (typeof key !== 'string' || typeof finalLoss !== 'number' || typeof trainMs !== 'number') {
    throw new FileFormatError(file, 'generator meta must hold key (string), finalLoss and trainMs (numbers)');
  }
  const params: GeneratorParams = {};
  for (const name of GENERATOR_PARAM_NAMES) {
    const d = f.tensors[name];
    if (!d) {
      for (const t of Object.values(params)) t.dispose();
      throw new FileFormatError(
        file,
        `parameter '${name}' missing (has: ${Object.keys(f.tensors).join(', ')})`,
      );
    }
    params[name] = fromTensorData(d);
  }
  return { params: checkLoadedGenerator(params, file), key, finalLoss, trainMs };
}

/**
 * Check a PyTorch generator checkpoint without making tensors (for a CLI's up-front check of
 * `--generator` / `GCVI_GENERATOR`): readable, a zip whose CRCs match, a state dict with the six
 * generator parameters of consistent shapes, every weight finite. Any fault is a
 * `FileFormatError` naming the file (and the tensor and element for a non-finite weight).
 * Returns the hidden width.
 */
export function checkGeneratorCheckpoint(file: string): { hidden: number } {
  const sd = loadTorchCheckpoint(file);
  const w0 = sd['0.weight'];
  if (w0?.shape.length !== 2) {
    throw new FileFormatError(
      file,
      `no '0.weight' of shape [hidden, ${GENERATOR_LATENT_DIM}] (keys: ${Object.keys(sd).join(', ') || 'none'})`,
    );
  }
  const hidden = w0.shape[0] as number;
  const shapes = generatorParamShapes(hidden);
  for (const name of GENERATOR_PARAM_NAMES) {
    const t = sd[name];
    if (!t)
      throw new FileFormatError(file, `no '${name}' in the state dict (keys: ${Object.keys(sd).join(', ')})`);
    const want = shapes[name] as number[];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new FileFormatError(
        file,
        `'${name}': expected shape [${want.join(', ')}], got [${t.shape.join(', ')}]`,
      );
    }
    for (let i = 0; i < t.data.length; i++) {
      const x = t.data[i] as number;
      if (!Number.isFinite(x)) {
        throw new FileFormatError(
          file,
          `'${name}' holds ${x} at element ${i} (generator weights must be finite)`,
        );
      }
    }
  }
  return { hidden };
}
