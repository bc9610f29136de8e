import {
  ConfigError,
  decodeTensorFile,
  encodeTensorFile,
  FileFormatError,
  fromTensorData,
  readTensorFile,
  TENSOR_FILE_VERSION,
  type TensorData,
  type TensorFile,
  tensorData,
  writeTensorFile,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderSpec, NamedTensors } from './types.js';

/**
 * Encoder parameter files are `@gcvi/runtime` tensor files (versioned header with magic, kind,
 * names, dtypes, shapes and the payload's sha256; atomic write) of kind `gcvi/encoder`: one
 * float32 tensor per parameter, under its name, and `meta.spec` = the encoder's JSON spec, so
 * `encoderFromSpec(spec)` rebuilds the encoder that uses them. Extension `.gcvip` by convention.
 */
export const PARAMS_FORMAT = 'gcvi/encoder' as const;
/** The tensor-file format version these files are written in. */
export const PARAMS_VERSION = TENSOR_FILE_VERSION;

/** The header fields of a parameter file beyond the tensors: its kind and `meta`. */
export interface ParamsFileHeader {
  readonly kind: typeof PARAMS_FORMAT;
  readonly meta: { readonly spec: EncoderSpec };
}

function toFile(spec: EncoderSpec, params: NamedTensors): TensorFile {
  if (spec === null || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new ConfigError('spec', 'must be an encoder spec object with a string `kind`');
  }
  if (params === null || typeof params !== 'object')
    throw new ConfigError('params', 'must be an object of tensors');
  const tensors: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(params)) {
    if (!(t instanceof tf.Tensor)) throw new ConfigError(`params.${name}`, 'is not a tensor');
    if (t.dtype !== 'float32') throw new ConfigError(`params.${name}`, `must be float32, got ${t.dtype}`);
    tensors[name] = tensorData(t);
  }
  const meta: ParamsFileHeader['meta'] = { spec };
  return { kind: PARAMS_FORMAT, meta, tensors };
}

function fromFile(file: string, f: TensorFile): { spec: EncoderSpec; params: NamedTensors } {
  const spec = (f.meta as { spec?: unknown }).spec as EncoderSpec | undefined;
  if (spec === null || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new FileFormatError(file, 'meta.spec is missing or has no kind');
  }
  for (const [name, d] of Object.entries(f.tensors)) {
    if (d.dtype !== 'float32')
      throw new FileFormatError(file, `parameter '${name}' is ${d.dtype}, not float32`);
  }
  const params: NamedTensors = {};
  for (const [name, d] of Object.entries(f.tensors)) params[name] = fromTensorData(d);
  return { spec, params };
}

/** Serialize parameters (and the encoder spec that uses them) to the bytes of a parameter file. */
export async function encodeParams(spec: EncoderSpec, params: NamedTensors): Promise<Uint8Array> {
  return encodeTensorFile(toFile(spec, params));
}

/** Parse the bytes of a parameter file; `file` names it in errors. */
export function decodeParams(
  bytes: Uint8Array,
  file = '<bytes>',
): { spec: EncoderSpec; params: NamedTensors } {
  return fromFile(file, decodeTensorFile(file, bytes, { kind: PARAMS_FORMAT }));
}

/**
 * Write `params` with the encoder `spec` to `path` atomically (temporary file, fsync, rename: a
 * reader never sees half a file, a crash leaves the old one). Creates the parent directory.
 */
export async function saveParams(path: string, spec: EncoderSpec, params: NamedTensors): Promise<void> {
  if (typeof path !== 'string' || path.length === 0)
    throw new ConfigError('path', 'must be a non-empty string');
  writeTensorFile(path, toFile(spec, params));
}

/**
 * Read a parameter file written by `saveParams`: `{ spec, params }`, bit for bit as saved. Every
 * problem (missing, truncated, damaged, another kind of tensor file) is a FileFormatError naming it.
 */
export async function loadParams(path: string): Promise<{ spec: EncoderSpec; params: NamedTensors }> {
  return fromFile(path, readTensorFile(path, { kind: PARAMS_FORMAT }));
}
