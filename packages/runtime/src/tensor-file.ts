import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import writeFileAtomic from 'write-file-atomic';
import { ConfigError, FileFormatError } from './errors.js';

/**
 * The gcvi named-tensor file, format version 1. One format for encoder weights, trainer and
 * optimizer state, generator weights and experiment checkpoints.
 *
 *     bytes 0..7     magic "GCVITENS"
 *     bytes 8..11    uint32 LE format version (1)
 *     bytes 12..15   uint32 LE n = byte length of the header
 *     bytes 16..     the header: UTF-8 JSON, then zero padding to a multiple of 8 bytes
 *     then           the payload: each tensor's values, little-endian, each starting at a
 *                    multiple of 8 bytes from the payload start
 *
 * The header is `{ kind, meta, tensors: [{ name, dtype, shape, offset, byteLength }],
 * payloadBytes, sha256 }`, where `sha256` is the hex digest of the whole payload (padding
 * included). A reader checks the magic, the version, the kind (when asked), the header, the file
 * length and the checksum, and throws a `FileFormatError` naming the file and what is wrong.
 */
export const TENSOR_FILE_VERSION = 1;
/** The first 8 bytes of every gcvi tensor file. */
export const TENSOR_FILE_MAGIC = 'GCVITENS';

export type TensorDType = 'float32' | 'int32';

export interface TensorData {
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  readonly values: Float32Array | Int32Array;
}

export interface TensorFile {
  /** What the file holds, e.g. `'gcvi/fit-state'` or `'gcvi/encoder'`; readers can require it. */
  readonly kind: string;
  /** Free-form JSON (finite numbers, strings, booleans, null, arrays, plain objects). */
  readonly meta: Readonly<Record<string, unknown>>;
  readonly tensors: Readonly<Record<string, TensorData>>;
}

export interface ReadTensorFileOptions {
  /** Throw unless the file's kind is exactly this. */
  readonly kind?: string;
}

interface HeaderEntry {
  name: string;
  dtype: TensorDType;
  shape: number[];
  offset: number;
  byteLength: number;
}

interface Header {
  kind: string;
  meta: Record<string, unknown>;
  tensors: HeaderEntry[];
  payloadBytes: number;
  sha256: string;
}

const PREFIX_BYTES = 16;
const pad8 = (n: number): number => Math.ceil(n / 8) * 8;
const littleEndian = endianness() === 'LE';

/** Values are stored little-endian; on a big-endian host swap each 4-byte element in place. */
function swap4(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const isShape = (s: unknown): s is number[] =>
  Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);

function checkJson(field: string, v: unknown): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ConfigError(field, `must be a finite number, got ${v}`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      checkJson(`${field}[${i}]`, x);
    });
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) checkJson(`${field}.${k}`, x);
    return;
  }
  throw new ConfigError(
    field,
    `must be JSON (finite numbers, strings, booleans, null, arrays, plain objects)`,
  );
}

function checkTensorData(field: string, d: TensorData): void {
  if (typeof d !== 'object' || d === null) throw new ConfigError(field, 'must be a TensorData');
  if (d.dtype !== 'float32' && d.dtype !== 'int32') {
    throw new ConfigError(`${field}.dtype`, `must be 'float32' or 'int32', got ${String(d.dtype)}`);
  }
  if (!isShape(d.shape)) {
    throw new ConfigError(`${field}.shape`, 'must be an array of non-negative integers');
  }
  const ctor = d.dtype === 'float32' ? Float32Array : Int32Array;
  if (!(d.values instanceof ctor)) {
    throw new ConfigError(`${field}.values`, `must be a ${ctor.name} for dtype ${d.dtype}`);
  }
  if (d.values.length !== sizeOf(d.shape)) {
    throw new ConfigError(
      `${field}.values`,
      `has ${d.values.length} elements, shape [${d.shape.join(', ')}] needs ${sizeOf(d.shape)}`,
    );
  }
}

/** Serialize a tensor file to bytes (what `writeTensorFile` writes). */
export function encodeTensorFile(file: TensorFile): Buffer {
  if (typeof file !== 'object' || file === null) throw new ConfigError('file', 'must be a TensorFile');
  if (typeof file.kind !== 'string' || file.kind === '') {
    throw new ConfigError('file.kind', 'must be a non-empty string');
  }
  if (typeof file.meta !== 'object' || file.meta === null || Array.isArray(file.meta)) {
    throw new ConfigError('file.meta', 'must be a plain object');
  }
  checkJson('file.meta', file.meta);
  if (typeof file.tensors !== 'object' || file.tensors === null) {
    throw new ConfigError('file.tensors', 'must be a record of TensorData');
  }
  const entries: HeaderEntry[] = [];
  let offset = 0;
  for (const [name, d] of Object.entries(file.tensors)) {
    if (name === '') throw new ConfigError('file.tensors', 'a tensor name must not be empty');
    checkTensorData(`file.tensors.${name}`, d);
    entries.push({ name, dtype: d.dtype, shape: [...d.shape], offset, byteLength: d.values.byteLength });
    offset = pad8(offset + d.values.byteLength);
  }
  const payload = Buffer.alloc(offset);
  entries.forEach((e) => {
    const v = file.tensors[e.name]!.values;
    const target = new Uint8Array(payload.buffer, payload.byteOffset + e.offset, e.byteLength);
    target.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (!littleEndian) swap4(target);
  });
  const header: Header = {
    kind: file.kind,
    meta: file.meta as Record<string, unknown>,
    tensors: entries,
    payloadBytes: payload.length,
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const payloadStart = pad8(PREFIX_BYTES + headerBytes.length);
  const out = Buffer.alloc(payloadStart + payload.length);
  out.write(TENSOR_FILE_MAGIC, 0, 'latin1');
  out.writeUInt32LE(TENSOR_FILE_VERSION, 8);
  out.writeUInt32LE(headerBytes.length, 12);
  headerBytes.copy(out, PREFIX_BYTES);
  payload.copy(out, payloadStart);
  return out;
}

/**
 * Write a tensor file atomically: the bytes go to a temporary file in the same directory, which is
 * fsynced and then renamed over `path` (write-file-atomic), so a reader sees the old file or the
 * new one, never half of one, and a crash mid-write leaves the old file intact. Creates missing
 * parent directories.
 */
export function writeTensorFile(path: string, file: TensorFile): void {
  if (typeof path !== 'string' || path === '') throw new ConfigError('path', 'must be a non-empty string');
  const bytes = encodeTensorFile(file);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic.sync(path, bytes, { fsync: true });
  } catch (e) {
    throw new FileFormatError(path, `cannot write tensor file (${(e as Error).message})`, { cause: e });
  }
}

/** Parse the bytes of a tensor file; `file` names it in errors. */
export function decodeTensorFile(
  file: string,
  buf: Uint8Array,
  options: ReadTensorFileOptions = {},
): TensorFile {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.length < 8 && TENSOR_FILE_MAGIC.startsWith(bytes.toString('latin1'))) {
    throw new FileFormatError(
      file,
      `truncated: ${bytes.length} bytes${bytes.length === 0 ? ' (empty file)' : ''}`,
    );
  }
  if (bytes.length < 8 || bytes.toString('latin1', 0, 8) !== TENSOR_FILE_MAGIC) {
    throw new FileFormatError(
      file,
      `not a gcvi tensor file (the first bytes are not '${TENSOR_FILE_MAGIC}')`,
    );
  }
  if (bytes.length < PREFIX_BYTES) {
    throw new FileFormatError(
      file,
      `truncated: ${bytes.length} bytes, shorter than the ${PREFIX_BYTES}-byte prefix`,
    );
  }
  const version = bytes.readUInt32LE(8);
  if (version !== TENSOR_FILE_VERSION) {
    throw new FileFormatError(
      file,
      version > TENSOR_FILE_VERSION
        ? `format version ${version} is newer than this reader's (${TENSOR_FILE_VERSION}); upgrade gcvi to read it`
        : `unknown format version ${version} (this reader understands ${TENSOR_FILE_VERSION})`,
    );
  }
  const headerLength = bytes.readUInt32LE(12);
  if (PREFIX_BYTES + headerLength > bytes.length) {
    throw new FileFormatError(
      file,
      `truncated: the header needs ${headerLength} bytes, the file has ${bytes.length - PREFIX_BYTES} after the prefix`,
    );
  }
  let h: Partial<Header>;
  try {
    h = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch (e) {
    throw new FileFormatError(file, 'the header is not valid JSON (file damaged)', { cause: e });
  }
  if (typeof h !== 'object' || h === null) throw new FileFormatError(file, 'the header is not an object');
  if (typeof h.kind !== 'string') throw new FileFormatError(file, 'the header has no kind');
  if (options.kind !== undefined && h.kind !== options.kind) {
    throw new FileFormatError(file, `holds '${h.kind}', expected '${options.kind}'`);
  }
  if (typeof h.meta !== 'object' || h.meta === null || Array.isArray(h.meta)) {
    throw new FileFormatError(file, 'the header has no meta object');
  }
  if (!Array.isArray(h.tensors)) throw new FileFormatError(file, 'the header has no tensor list');
  if (!Number.isSafeInteger(h.payloadBytes) || (h.payloadBytes as number) < 0) {
    throw new FileFormatError(file, 'the header has no valid payloadBytes');
  }
  if (typeof h.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(h.sha256)) {
    throw new FileFormatError(file, 'the header has no valid sha256');
  }
  const payloadBytes = h.payloadBytes as number;
  const payloadStart = pad8(PREFIX_BYTES + headerLength);
  const expected = payloadStart + payloadBytes;
  if (bytes.length < expected) {
    throw new FileFormatError(file, `truncated: ${bytes.length} bytes, the header says ${expected}`);
  }
  if (bytes.length > expected) {
    throw new FileFormatError(
      file,
      `${bytes.length - expected} unexpected bytes after the payload (file damaged)`,
    );
  }
  const payload = bytes.subarray(payloadStart, expected);
  const digest = createHash('sha256').update(payload).digest('hex');
  if (digest !== h.sha256) {
    throw new FileFormatError(
      file,
      'payload checksum (sha256) does not match the header: the file is damaged',
    );
  }
  const tensors: Record<string, TensorData> = {};
  for (const [i, e] of h.tensors.entries()) {
    const where = `tensor #${i}`;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || e.name === '') {
      throw new FileFormatError(file, `${where} has no name`);
    }
    if (Object.hasOwn(tensors, e.name)) throw new FileFormatError(file, `tensor '${e.name}' appears twice`);
    if (e.dtype !== 'float32' && e.dtype !== 'int32') {
      throw new FileFormatError(file, `tensor '${e.name}' has unknown dtype ${String(e.dtype)}`);
    }
    if (!isShape(e.shape)) throw new FileFormatError(file, `tensor '${e.name}' has an invalid shape`);
    const n = sizeOf(e.shape);
    if (e.byteLength !== n * 4) {
      throw new FileFormatError(
        file,
        `tensor '${e.name}': shape [${e.shape.join(', ')}] and byteLength ${e.byteLength} disagree`,
      );
    }
    if (
      !Number.isSafeInteger(e.offset) ||
      e.offset < 0 ||
      e.offset % 8 !== 0 ||
      e.offset + e.byteLength > payloadBytes
    ) {
      throw new FileFormatError(file, `tensor '${e.name}' lies outside the payload`);
    }
    const copy = new Uint8Array(e.byteLength);
    copy.set(payload.subarray(e.offset, e.offset + e.byteLength));
    if (!littleEndian) swap4(copy);
    tensors[e.name] = {
      dtype: e.dtype,
      shape: e.shape,
      values: e.dtype === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer),
    };
  }
  return { kind: h.kind, meta: h.meta, tensors };
}

/**
 * Read a tensor file written by `writeTensorFile`, verifying magic, version, kind (with
 * `options.kind`), header, length and payload checksum. Every problem is a `FileFormatError`
 * whose message starts with the path and says what is wrong.
 */
export function readTensorFile(path: string, options: ReadTensorFileOptions = {}): TensorFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileFormatError(
      path,
      code === 'ENOENT' ? 'no such file' : `cannot read (${(e as Error).message})`,
      { cause: e },
    );
  }
  return decodeTensorFile(path, buf, options);
}

/** The values of a float32 or int32 tensor as `TensorData` (a copy; one synchronous read). */
export function tensorData(t: tf.Tensor): TensorData {
  if (!(t instanceof tf.Tensor)) throw new ConfigError('tensor', 'must be a tf.Tensor');
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new ConfigError('tensor.dtype', `tensor files hold float32 and int32, got ${t.dtype}`);
  }
  const values = t.dataSync();
  return {
    dtype: t.dtype,
    shape: [...t.shape],
    values:
      t.dtype === 'float32'
        ? Float32Array.from(values as Float32Array)
        : Int32Array.from(values as Int32Array),
  };
}

/** A new tensor holding `d` (the caller owns and disposes it). */
export function fromTensorData(d: TensorData): tf.Tensor {
  checkTensorData('tensorData', d);
  return tf.tensor(d.values, [...d.shape], d.dtype);
}
