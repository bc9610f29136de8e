import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, FileFormatError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderSpec, NamedTensors } from './types.js';

/**
 * The gcvi parameter file, version 1 (extension `.gcvip` by convention):
 *
 *     bytes 0..7    ASCII magic "GCVIPRMS"
 *     bytes 8..11   H = byte length of the header, uint32 little-endian
 *     bytes 12..    the header: UTF-8 JSON
 *                   { format: "gcvi-params", version: 1, spec, byteOrder: "little",
 *                     tensors: [{ name, shape, dtype: "float32", offset, length }],
 *                     payloadBytes, sha256 }
 *     bytes 12+H..  the payload: every tensor's float32 values, row-major, little-endian;
 *                   `offset` and `length` are in bytes from the payload's start,
 *                   `sha256` is the hex digest of the whole payload.
 *
 * Values round-trip bit for bit (NaN payloads, −0 and subnormals included). A file that is
 * truncated, has trailing bytes, a bad header or a payload whose digest does not match is refused
 * with a `FileFormatError` naming it.
 */
export const PARAMS_FORMAT = 'gcvi-params' as const;
export const PARAMS_VERSION = 1 as const;
const MAGIC = 'GCVIPRMS';

export interface ParamsFileHeader {
  readonly format: typeof PARAMS_FORMAT;
  readonly version: number;
  readonly spec: EncoderSpec;
  readonly byteOrder: 'little';
  readonly tensors: ReadonlyArray<{
    readonly name: string;
    readonly shape: readonly number[];
    readonly dtype: 'float32';
    readonly offset: number;
    readonly length: number;
  }>;
  readonly payloadBytes: number;
  readonly sha256: string;
}

const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function toLittleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3]!;
    out[i + 1] = bytes[i + 2]!;
    out[i + 2] = bytes[i + 1]!;
    out[i + 3] = bytes[i]!;
  }
  return out;
}

function fromLittleEndian(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes); // aligned, owned
  if (!LITTLE) {
    for (let i = 0; i < copy.length; i += 4) {
      const a = copy[i]!;
      const b = copy[i + 1]!;
      copy[i] = copy[i + 3]!;
      copy[i + 1] = copy[i + 2]!;
      copy[i + 2] = b;
      copy[i + 3] = a;
    }
  }
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}

/** Serialize parameters (and the encoder spec that uses them) to the bytes of a parameter file. */
export async function encodeParams(spec: EncoderSpec, params: NamedTensors): Promise<Uint8Array> {
  if (spec === null || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new ConfigError('spec', 'must be an encoder spec object with a string `kind`');
  }
  if (params === null || typeof params !== 'object')
    throw new ConfigError('params', 'must be an object of tensors');
  const tensors: ParamsFileHeader['tensors'][number][] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(params)) {
    if (!(t instanceof tf.Tensor)) throw new ConfigError(`params.${name}`, 'is not a tensor');
    if (t.dtype !== 'float32') throw new ConfigError(`params.${name}`, `must be float32, got ${t.dtype}`);
    const values = (await t.data()) as Float32Array;
    const bytes = toLittleEndian(values);
    tensors.push({ name, shape: [...t.shape], dtype: 'float32', offset, length: bytes.length });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const header: ParamsFileHeader = {
    format: PARAMS_FORMAT,
    version: PARAMS_VERSION,
    spec,
    byteOrder: 'little',
    tensors,
    payloadBytes: offset,
    sha256: hash.digest('hex'),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + headerBytes.length + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  let at = 12 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parse the bytes of a parameter file; `file` names it in errors. */
export function decodeParams(
  bytes: Uint8Array,
  file = '<bytes>',
): { spec: EncoderSpec; params: NamedTensors } {
  const bad = (msg: string): never => {
    throw new FileFormatError(file, msg);
  };
  if (bytes.length < 12) bad(`truncated: ${bytes.length} bytes, not a gcvi parameter file`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) bad('not a gcvi parameter file (bad magic)');
  const h = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + h > bytes.length)
    bad(`truncated: header needs ${h} bytes, file has ${bytes.length - 12} after the magic`);
  let header: ParamsFileHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + h)));
  } catch (e) {
    return bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || header.format !== PARAMS_FORMAT)
    bad('header.format is not "gcvi-params"');
  if (header.version !== PARAMS_VERSION) {
    bad(`unsupported version ${String(header.version)} (this build reads version ${PARAMS_VERSION})`);
  }
  if (header.byteOrder !== 'little') bad(`unsupported byteOrder ${String(header.byteOrder)}`);
  if (header.spec === null || typeof header.spec !== 'object' || typeof header.spec.kind !== 'string') {
    bad('header.spec is missing or has no kind');
  }
  if (!Number.isInteger(header.payloadBytes) || header.payloadBytes < 0)
    bad('header.payloadBytes is invalid');
  const payload = bytes.subarray(12 + h);
  if (payload.length < header.payloadBytes) {
    bad(`truncated: payload has ${payload.length} of ${header.payloadBytes} bytes`);
  }
  if (payload.length > header.payloadBytes)
    bad(`${payload.length - header.payloadBytes} unexpected trailing bytes`);
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256)
    bad('payload checksum mismatch (corrupt file)');
  if (!Array.isArray(header.tensors)) bad('header.tensors is not an array');
  const params: NamedTensors = {};
  for (const [i, t] of header.tensors.entries()) {
    const where = `header.tensors[${i}]`;
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string') bad(`${where}.name is missing`);
    if (t.dtype !== 'float32') bad(`${where} (${t.name}): unsupported dtype ${String(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      bad(`${where} (${t.name}): invalid shape`);
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (
      t.length !== 4 * size ||
      !Number.isInteger(t.offset) ||
      t.offset < 0 ||
      t.offset + t.length > payload.length
    ) {
      bad(`${where} (${t.name}): offset/length do not fit the payload`);
    }
    if (t.name in params) bad(`${where}: duplicate tensor name ${t.name}`);
    params[t.name] = tf.tensor(
      fromLittleEndian(payload.subarray(t.offset, t.offset + t.length)),
      [...t.shape],
      'float32',
    );
  }
  return { spec: header.spec, params };
}

let tmpCounter = 0;

/**
 * Write `params` with the encoder `spec` to `path` atomically: a temporary file beside it is
 * written and flushed, then renamed over `path` (a reader never sees half a file). Creates the
 * parent directory.
 */
export async function saveParams(path: string, spec: EncoderSpec, params: NamedTensors): Promise<void> {
  if (typeof path !== 'string' || path.length === 0)
    throw new ConfigError('path', 'must be a non-empty string');
  const bytes = await encodeParams(spec, params);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/** Read a parameter file written by `saveParams`. Errors name the file. */
export async function loadParams(path: string): Promise<{ spec: EncoderSpec; params: NamedTensors }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new FileFormatError(path, `cannot read (${(e as Error).message})`, { cause: e });
  }
  return decodeParams(bytes, path);
}
