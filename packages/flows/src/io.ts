import {
  ConfigError,
  FileFormatError,
  fromTensorData,
  readTensorFile,
  type TensorData,
  tensorData,
  writeTensorFile,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { type Nsf, type NsfParams, nsf } from './nsf.js';
import type { NsfSpec } from './options.js';

/**
 * Flow files are `@gcvi/runtime` tensor files (versioned header, sha256 of the payload, atomic
 * write) of kind `gcvi/nsf`: one float32 tensor per parameter under its name, and `meta.spec` =
 * the flow's JSON spec, so `loadNsf` rebuilds the same flow.
 */
export const NSF_FILE_KIND = 'gcvi/nsf' as const;

/** Write a flow's spec and parameters (tensors or variables) to `path`, atomically. */
export function saveNsf(path: string, flow: Nsf, params: NsfParams): void {
  if (typeof path !== 'string' || path.length === 0)
    throw new ConfigError('path', 'must be a non-empty string');
  const tensors: Record<string, TensorData> = {};
  for (const [name, shape] of Object.entries(flow.paramShapes)) {
    const t = params[name];
    if (!(t instanceof tf.Tensor)) throw new ConfigError(`params.${name}`, 'missing or not a tensor');
    if (t.shape.join(',') !== shape.join(',') || t.dtype !== 'float32') {
      throw new ConfigError(
        `params.${name}`,
        `expected float32 [${shape.join(', ')}], got ${t.dtype} [${t.shape.join(', ')}]`,
      );
    }
    tensors[name] = tensorData(t);
  }
  writeTensorFile(path, { kind: NSF_FILE_KIND, meta: { spec: flow.spec }, tensors });
}

/** Read a file written by `saveNsf`: the rebuilt flow and its parameters (plain tensors). */
export function loadNsf(path: string): { flow: Nsf; params: NsfParams } {
  const file = readTensorFile(path, { kind: NSF_FILE_KIND });
  const spec = (file.meta as { spec?: NsfSpec }).spec;
  if (spec?.kind !== 'nsf') throw new FileFormatError(path, 'meta.spec is missing or not an nsf spec');
  let flow: Nsf;
  try {
    // Files written before the `lu` option existed hold flows without LU layers.
    flow = nsf({ ...spec, lu: (spec as Partial<NsfSpec>).lu ?? false });
  } catch (e) {
    throw new FileFormatError(path, `meta.spec is not a valid nsf spec (${(e as Error).message})`, {
      cause: e,
    });
  }
  for (const [name, shape] of Object.entries(flow.paramShapes)) {
    const d = file.tensors[name];
    if (!d) throw new FileFormatError(path, `parameter '${name}' is missing`);
    if (d.dtype !== 'float32' || d.shape.join(',') !== shape.join(',')) {
      throw new FileFormatError(
        path,
        `parameter '${name}' is ${d.dtype} [${d.shape.join(', ')}], expected float32 [${shape.join(', ')}]`,
      );
    }
  }
  const params: NsfParams = {};
  for (const name of Object.keys(flow.paramShapes))
    params[name] = fromTensorData(file.tensors[name] as TensorData);
  return { flow, params };
}
