import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  FileFormatError,
  fromTensorData,
  initBackend,
  readTensorFile,
  TENSOR_FILE_VERSION,
  type TensorFile,
  tensorData,
  writeTensorFile,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gcvi-tensor-file-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function f32(shape: number[], start = 0): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => start + i * 0.37 - 1 / 3);
}

const sample: TensorFile = {
  kind: 'test/sample',
  meta: { run: 'abc', steps: 12, nested: { ok: true, list: [1, 'two', null] } },
  tensors: {
    scalar: { dtype: 'float32', shape: [], values: Float32Array.of(Math.PI) },
    vector: { dtype: 'float32', shape: [5], values: f32([5]) },
    matrix: { dtype: 'float32', shape: [3, 4], values: f32([3, 4], 10) },
    cube: { dtype: 'float32', shape: [2, 3, 2], values: f32([2, 3, 2], -5) },
    empty: { dtype: 'float32', shape: [0], values: new Float32Array(0) },
    empty2: { dtype: 'int32', shape: [2, 0, 3], values: new Int32Array(0) },
    counts: { dtype: 'int32', shape: [3], values: Int32Array.of(-2147483648, 0, 2147483647) },
    intScalar: { dtype: 'int32', shape: [], values: Int32Array.of(42) },
    odd: { dtype: 'int32', shape: [3, 1], values: Int32Array.of(1, 2, 3) },
    special: {
      dtype: 'float32',
      shape: [4],
      values: Float32Array.of(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e-45),
    },
  },
};

/** A good file, then a fresh path for each damage test. */
function goodFile(name: string): string {
  const p = join(dir, name);
  writeTensorFile(p, sample);
  return p;
}

function expectFileError(path: string, pattern: RegExp, options?: { kind?: string }): void {
  let err: unknown;
  try {
    readTensorFile(path, options);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FileFormatError);
  expect((err as FileFormatError).file).toBe(path);
  expect((err as Error).message.startsWith(`${path}: `)).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

describe('tensor file round trip', () => {
  it('gives back every name, dtype, shape and bit pattern, and the meta', () => {
    const p = goodFile('round-trip.gcvi');
    const back = readTensorFile(p, { kind: 'test/sample' });
    expect(back.kind).toBe('test/sample');
    expect(back.meta).toEqual(sample.meta);
    expect(Object.keys(back.tensors)).toEqual(Object.keys(sample.tensors));
    for (const [name, d] of Object.entries(sample.tensors)) {
      const b = back.tensors[name]!;
      expect(b.dtype, name).toBe(d.dtype);
      expect(b.shape, name).toEqual(d.shape);
      expect(b.values.constructor, name).toBe(d.values.constructor);
      // Compare bit patterns: NaN, -0 and denormals must survive exactly.
      expect(
        Array.from(new Uint32Array(b.values.buffer, b.values.byteOffset, b.values.length)),
        name,
      ).toEqual(Array.from(new Uint32Array(d.values.buffer, d.values.byteOffset, d.values.length)));
    }
  });

  it('writes the documented header: magic, version, then JSON with the payload checksum', () => {
    const p = goodFile('header.gcvi');
    const bytes = readFileSync(p);
    expect(bytes.toString('latin1', 0, 8)).toBe('GCVITENS');
    expect(bytes.readUInt32LE(8)).toBe(TENSOR_FILE_VERSION);
    const n = bytes.readUInt32LE(12);
    const header = JSON.parse(bytes.toString('utf8', 16, 16 + n));
    expect(header.kind).toBe('test/sample');
    expect(header.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(header.tensors.map((e: { name: string }) => e.name)).toEqual(Object.keys(sample.tensors));
    const start = Math.ceil((16 + n) / 8) * 8;
    expect(bytes.length).toBe(start + header.payloadBytes);
  });

  it('tensorData / fromTensorData round-trip tensors, including scalars and empty ones', () => {
    const ts = [
      tf.scalar(2.5),
      tf.tensor([1, 2, 3], [3], 'int32'),
      tf.tensor(f32([2, 3]), [2, 3]),
      tf.zeros([0, 4]),
    ];
    const file = {
      kind: 'test/tf',
      meta: {},
      tensors: Object.fromEntries(ts.map((t, i) => [`t${i}`, tensorData(t)])),
    };
    const p = join(dir, 'tf.gcvi');
    writeTensorFile(p, file);
    const back = readTensorFile(p);
    ts.forEach((t, i) => {
      const r = fromTensorData(back.tensors[`t${i}`]!);
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(r.dataSync())).toEqual(Array.from(t.dataSync()));
      r.dispose();
    });
    tf.dispose(ts);
  });

  it('overwrites an existing file and creates missing directories', () => {
    const p = join(dir, 'nested', 'deeper', 'x.gcvi');
    writeTensorFile(p, sample);
    writeTensorFile(p, { kind: 'test/second', meta: {}, tensors: {} });
    const back = readTensorFile(p);
    expect(back.kind).toBe('test/second');
    expect(back.tensors).toEqual({});
  });

  it('rejects bad input to write with a ConfigError naming the field', () => {
    const p = join(dir, 'bad-input.gcvi');
    const bad =
      (tensors: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
      () =>
        writeTensorFile(p, { kind: 'k', meta, tensors } as unknown as TensorFile);
    expect(bad({ w: { dtype: 'float32', shape: [3], values: new Float32Array(2) } })).toThrow(
      /file\.tensors\.w\.values: has 2 elements, shape \[3\] needs 3/,
    );
    expect(bad({ w: { dtype: 'float64', shape: [1], values: new Float64Array(1) } })).toThrow(
      /file\.tensors\.w\.dtype/,
    );
    expect(bad({ w: { dtype: 'int32', shape: [1], values: new Float32Array(1) } })).toThrow(
      /file\.tensors\.w\.values: must be a Int32Array/,
    );
    expect(bad({}, { loss: Number.NaN })).toThrow(ConfigError);
    expect(bad({}, { loss: Number.NaN })).toThrow(/file\.meta\.loss: must be a finite number/);
    expect(() => tensorData(tf.tensor([true], [1], 'bool'))).toThrow(/tensor\.dtype/);
    expect(() => readFileSync(p)).toThrow(); // nothing was written
  });
});

describe('damaged tensor files give one clear FileFormatError naming the file', () => {
  it('a missing file', () => {
    expectFileError(join(dir, 'nope.gcvi'), /no such file/);
  });

  it('truncated: inside the payload, inside the header, inside the prefix', () => {
    for (const [name, keep] of [
      ['trunc-payload.gcvi', (n: number) => n - 5],
      ['trunc-header.gcvi', () => 40],
      ['trunc-prefix.gcvi', () => 12],
      ['trunc-magic.gcvi', () => 5],
      ['trunc-empty.gcvi', () => 0],
    ] as const) {
      const p = goodFile(name);
      const bytes = readFileSync(p);
      writeFileSync(p, bytes.subarray(0, keep(bytes.length)));
      expectFileError(p, /truncated/);
    }
  });

  it('one flipped payload byte', () => {
    const p = goodFile('flipped.gcvi');
    const bytes = readFileSync(p);
    const i = bytes.length - 20;
    bytes[i] = (bytes[i] as number) ^ 0x01;
    writeFileSync(p, bytes);
    expectFileError(p, /checksum \(sha256\) does not match.*damaged/);
  });

  it('wrong magic (e.g. some other binary format)', () => {
    const p = goodFile('magic.gcvi');
    const bytes = readFileSync(p);
    bytes.write('GCVICKPT', 0, 'latin1');
    writeFileSync(p, bytes);
    expectFileError(p, /not a gcvi tensor file/);
    const q = join(dir, 'json.gcvi');
    writeFileSync(q, '{"not": "tensors"}');
    expectFileError(q, /not a gcvi tensor file/);
  });

  it('a future format version', () => {
    const p = goodFile('future.gcvi');
    const bytes = readFileSync(p);
    bytes.writeUInt32LE(TENSOR_FILE_VERSION + 1, 8);
    writeFileSync(p, bytes);
    expectFileError(p, new RegExp(`format version ${TENSOR_FILE_VERSION + 1} is newer than this reader's`));
  });

  it('the wrong kind', () => {
    const p = goodFile('kind.gcvi');
    expectFileError(p, /holds 'test\/sample', expected 'gcvi\/fit-state'/, { kind: 'gcvi/fit-state' });
  });

  it('trailing bytes after the payload', () => {
    const p = goodFile('trailing.gcvi');
    writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.from([0, 0, 0])]));
    expectFileError(p, /3 unexpected bytes after the payload/);
  });

  it('a damaged header', () => {
    const p = goodFile('header-json.gcvi');
    const bytes = readFileSync(p);
    bytes[17] = 0x7b; // '{' inside the JSON: no longer parses
    writeFileSync(p, bytes);
    expectFileError(p, /header is not valid JSON/);
  });
});

describe('an interrupted write', () => {
  it('(writer killed after writing the temp file, before the rename) never replaces a good file', async () => {
    const sub = join(dir, 'interrupted');
    const p = join(sub, 'state.gcvi');
    writeTensorFile(p, sample);
    const before = readFileSync(p);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'fixtures', 'interrupted-writer.ts'), p],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        if (String(d).includes('in-fsync')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The temporary file is left behind, the target is the old file, byte for byte.
    const left = readdirSync(sub).filter((f) => f !== 'state.gcvi');
    expect(left.length).toBe(1);
    expect(left[0]!.startsWith('state.gcvi.')).toBe(true);
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(readTensorFile(p, { kind: 'test/sample' }).meta).toEqual(sample.meta);
    // A later write still works and replaces it.
    writeTensorFile(p, { kind: 'test/after', meta: {}, tensors: {} });
    expect(readTensorFile(p).kind).toBe('test/after');
  });
});
