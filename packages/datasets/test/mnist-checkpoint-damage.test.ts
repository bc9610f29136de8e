import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileFormatError } from '@gcvi/runtime';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import {
  smallGeneratorStateDict,
  storedZip,
  torchCheckpointBytes,
} from '../../../test-support/torch-checkpoint.js';
import { checkGeneratorCheckpoint, generatorFromStateDict, loadTorchCheckpoint } from '../src/mnist/index.js';

// Damaged copies of real checkpoints: one this test writes (always) and the paper's G299.ckpt
// from ../shared/fixtures (when present; never copied into the repo).
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = resolve(repoRoot, '../shared/fixtures/G299.ckpt');
const tmp = mkdtempSync(join(tmpdir(), 'gcvi-ckpt-damage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Byte offset of the first float32 of storage `key` (a stored entry: its data follows the local header). */
function storageOffset(bytes: Uint8Array, key: string): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const want = `data/${key}`;
  for (let p = 0; p + 30 < bytes.length; p++) {
    if (v.getUint32(p, true) !== 0x04034b50) continue;
    const nameLen = v.getUint16(p + 26, true);
    const extraLen = v.getUint16(p + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 30, p + 30 + nameLen));
    if (name.endsWith(want)) return p + 30 + nameLen + extraLen;
  }
  throw new Error(`no entry ${want}`);
}

const sources: [string, () => Uint8Array][] = [
  ['a checkpoint the test writes', () => torchCheckpointBytes(smallGeneratorStateDict(8))],
];
if (existsSync(FIXTURE))
  sources.push(['../shared/fixtures/G299.ckpt', () => new Uint8Array(readFileSync(FIXTURE))]);
else console.warn(`mnist-checkpoint-damage: ${FIXTURE} absent; only the written checkpoint is damaged`);

describe.each(sources)('damaged generator checkpoints: %s', (label, bytesOf) => {
  const base = bytesOf();
  const write = (name: string, b: Uint8Array) => {
    const f = join(tmp, `${label.replace(/\W+/g, '_')}-${name}.ckpt`);
    writeFileSync(f, b);
    return f;
  };

  it('the undamaged file loads and passes the up-front check', () => {
    const f = write('ok', base);
    const { hidden } = checkGeneratorCheckpoint(f);
    expect(hidden).toBe(label.includes('G299') ? 256 : 8);
    const sd = loadTorchCheckpoint(f);
    if (!label.includes('G299')) {
      const want = smallGeneratorStateDict(8)['2.bias']!;
      expect([...sd['2.bias']!.data]).toEqual([...Float32Array.from(want.data)]);
    }
  });

  it('a flipped bit in a stored weight is a CRC error naming the file and entry', () => {
    const b = base.slice();
    const at = storageOffset(b, '2') + 17;
    b[at] = (b[at] as number) ^ 0x10;
    const f = write('bitflip', b);
    for (const load of [() => loadTorchCheckpoint(f), () => checkGeneratorCheckpoint(f)]) {
      expect(load).toThrow(FileFormatError);
      expect(load).toThrow(
        new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: zip entry '.*data/2' is damaged \\(CRC-32`),
      );
    }
  });

  it('a NaN or Infinity weight (archive rebuilt with correct CRCs) is refused naming the file, tensor and element', () => {
    const entries = unzipSync(base);
    const key = Object.keys(entries).find((n) => n.endsWith('data/3')) as string;
    for (const [value, text] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      const storage = (entries[key] as Uint8Array).slice();
      new DataView(storage.buffer).setFloat32(4 * 2, value, true);
      const f = write(`nonfinite-${text}`, storedZip({ ...entries, [key]: storage }));
      expect(() => checkGeneratorCheckpoint(f)).toThrow(
        new RegExp(`: '2\\.bias' holds ${text} at element 2 \\(generator weights must be finite\\)`),
      );
      expect(() => generatorFromStateDict(loadTorchCheckpoint(f), f)).toThrow(FileFormatError);
      expect(() => generatorFromStateDict(loadTorchCheckpoint(f), f)).toThrow(/'2\.bias'/);
    }
  });

  it('a truncated file is a FileFormatError naming the file', () => {
    for (const cut of [10, Math.floor(base.length / 2), base.length - 5]) {
      const f = write(`trunc-${cut}`, base.subarray(0, cut));
      expect(() => checkGeneratorCheckpoint(f)).toThrow(
        expect.objectContaining({ name: 'FileFormatError', file: f }),
      );
    }
  });
});
