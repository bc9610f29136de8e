import { FileFormatError, fromTensorData, readTensorFile, tensorData, writeTensorFile } from '@gcvi/runtime';
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkLoadedGenerator, GENERATOR_PARAM_NAMES, type GeneratorParams } from './generator.js';

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
