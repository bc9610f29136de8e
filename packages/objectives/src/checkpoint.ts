import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { FileFormatError, type RngState } from '@gcvi/runtime';

/**
 * Checkpoint file format, version 1 (little-endian):
 *
 *     bytes 0..7   magic "GCVICKPT"
 *     bytes 8..11  uint32 n = byte length of the JSON header
 *     bytes 12..   the header (UTF-8 JSON), zero-padded to a multiple of 8 bytes
 *     then         the arrays, each starting at a multiple of 8 bytes from the data start
 *
 * The header is `{ format: 'gcvi-checkpoint', version: 1, state, arrays }`; `state` holds the plain
 * values (step, counters, rng states, optimizer scalars, free-form `meta`) and `arrays` lists
 * `{ key, dtype: 'float32' | 'float64', shape, offset, length }` (offset in bytes from the data
 * start, length in elements). Keys are `param/<name>`, `optim/<name>`, `history/<field>`.
 * Files are written to a temporary name and renamed, so a reader never sees half a checkpoint.
 */
export const CHECKPOINT_FORMAT_VERSION = 1;
const MAGIC = 'GCVICKPT';

export interface SavedArray {
  readonly shape: readonly number[];
  readonly values: Float32Array | Float64Array;
}

export interface CheckpointState {
  /** Steps completed. */
  readonly step: number;
  readonly skippedSteps: number;
  readonly nonFiniteInARow: number;
  readonly objective: string;
  readonly rng: Readonly<Record<string, RngState>>;
  readonly optimizer: { readonly description: string; readonly scalars: Readonly<Record<string, number>> };
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface CheckpointData {
  readonly state: CheckpointState;
  readonly arrays: Readonly<Record<string, SavedArray>>;
}

interface ArrayEntry {
  key: string;
  dtype: 'float32' | 'float64';
  shape: number[];
  offset: number;
  length: number;
}

const pad8 = (n: number): number => (n + 7) & ~7;

function checkEndianness(file: string): void {
  if (endianness() !== 'LE')
    throw new FileFormatError(file, 'checkpoints are little-endian; this machine is not');
}

/** Write a checkpoint atomically (temporary file in the same directory, fsync, rename). */
export async function writeCheckpoint(path: string, data: CheckpointData): Promise<void> {
  checkEndianness(path);
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [key, a] of Object.entries(data.arrays)) {
    const dtype = a.values instanceof Float64Array ? 'float64' : 'float32';
    entries.push({ key, dtype, shape: [...a.shape], offset, length: a.values.length });
    offset = pad8(offset + a.values.byteLength);
  }
  const header = Buffer.from(
    JSON.stringify({
      format: 'gcvi-checkpoint',
      version: CHECKPOINT_FORMAT_VERSION,
      state: data.state,
      arrays: entries,
    }),
    'utf8',
  );
  const headerStart = 12;
  const dataStart = pad8(headerStart + header.length);
  const buf = Buffer.alloc(dataStart + offset);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(header.length, 8);
  header.copy(buf, headerStart);
  for (const e of entries) {
    const v = data.arrays[e.key]!.values;
    Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(buf, dataStart + e.offset);
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Read a checkpoint written by `writeCheckpoint`; every malformation is a FileFormatError naming the file. */
export async function readCheckpoint(path: string): Promise<CheckpointData> {
  checkEndianness(path);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new FileFormatError(path, `cannot read checkpoint (${(e as Error).message})`, { cause: e });
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) {
    throw new FileFormatError(path, 'not a gcvi checkpoint (bad magic bytes)');
  }
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) throw new FileFormatError(path, 'truncated header');
  let header: { format?: unknown; version?: unknown; state?: CheckpointState; arrays?: ArrayEntry[] };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength));
  } catch (e) {
    throw new FileFormatError(path, 'header is not valid JSON', { cause: e });
  }
  if (header.format !== 'gcvi-checkpoint')
    throw new FileFormatError(path, 'header.format is not gcvi-checkpoint');
  if (header.version !== CHECKPOINT_FORMAT_VERSION) {
    throw new FileFormatError(
      path,
      `checkpoint format version ${String(header.version)}; this reader understands ${CHECKPOINT_FORMAT_VERSION}`,
    );
  }
  if (!header.state || !Array.isArray(header.arrays))
    throw new FileFormatError(path, 'header lacks state/arrays');
  const dataStart = pad8(12 + headerLength);
  const arrays: Record<string, SavedArray> = {};
  for (const e of header.arrays) {
    const bytesPer = e.dtype === 'float64' ? 8 : e.dtype === 'float32' ? 4 : 0;
    if (!bytesPer) throw new FileFormatError(path, `array '${e.key}' has unknown dtype ${String(e.dtype)}`);
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (size !== e.length) throw new FileFormatError(path, `array '${e.key}': shape and length disagree`);
    const start = dataStart + e.offset;
    const end = start + e.length * bytesPer;
    if (end > buf.length)
      throw new FileFormatError(path, `truncated: array '${e.key}' runs past the end of the file`);
    const copy = new ArrayBuffer(e.length * bytesPer);
    buf.copy(new Uint8Array(copy), 0, start, end);
    arrays[e.key] = {
      shape: e.shape,
      values: bytesPer === 8 ? new Float64Array(copy) : new Float32Array(copy),
    };
  }
  return { state: header.state, arrays };
}
