import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, mnistDataDir, mnistFileNames, mnistImagesTensor } from '../src/mnist/index.js';

describe('loadMnist', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend();
    tmp = mkdtempSync(join(tmpdir(), 'gcvi-mnist-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads the test split with the documented sizes and labels', () => {
    const d = loadMnist({ split: 'test' });
    expect(d.count).toBe(10_000);
    expect([d.rows, d.cols]).toEqual([28, 28]);
    expect(d.images.length).toBe(10_000 * 784);
    // First test labels of MNIST are 7, 2, 1, 0, 4, 1, 4, 9, 5, 9 (the well-known sequence).
    expect(Array.from(d.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // Every digit occurs; counts of the test split sum to 10,000 and digit 1 is the most frequent (1,135).
    const counts = new Array(10).fill(0);
    for (const l of d.labels) counts[l]++;
    expect(counts[1]).toBe(1135);
    expect(counts[5]).toBe(892);
  });

  it('limit keeps the first images; train split has 60,000', () => {
    const d = loadMnist({ split: 'train', limit: 100 });
    expect(d.count).toBe(100);
    expect(d.labels[0]).toBe(5); // the first training digit is a 5
    expect(d.fingerprint).not.toBe(loadMnist({ split: 'train', limit: 101 }).fingerprint);
    const t = mnistImagesTensor(d, [0, 1]);
    expect(t.shape).toEqual([2, 28, 28]);
    const v = t.dataSync();
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    // The image tensor is the bytes / 255.
    expect(v[300]).toBeCloseTo((d.images[300] as number) / 255, 6);
    t.dispose();
  });

  it('rejects bad options naming the field', () => {
    expect(() => loadMnist({ split: 'val' as 'train' })).toThrow(/split/);
    expect(() => loadMnist({ split: 'test', limit: 0 })).toThrow(/limit/);
    expect(() => loadMnist({ split: 'test', dir: join(tmp, 'nope') })).toThrow(/t10k-images-idx3-ubyte/);
  });

  const src = mnistDataDir();
  const names = mnistFileNames('test');
  function damaged(tag: string, fn: (img: Uint8Array, lbl: Uint8Array) => [Uint8Array, Uint8Array]): string {
    const dir = join(tmp, tag);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const [img, lbl] = fn(
      new Uint8Array(readFileSync(join(src, names.images))),
      new Uint8Array(readFileSync(join(src, names.labels))),
    );
    writeFileSync(join(dir, names.images), img);
    writeFileSync(join(dir, names.labels), lbl);
    return dir;
  }

  it('truncated images file → FileFormatError naming it', () => {
    const dir = damaged('trunc', (img, lbl) => [img.subarray(0, img.length - 100), lbl]);
    expect(() => loadMnist({ split: 'test', dir })).toThrow(
      expect.objectContaining({ name: 'FileFormatError', file: join(dir, names.images) }),
    );
    expect(() => loadMnist({ split: 'test', dir })).toThrow(/truncated/);
  });

  it('bad magic, short header, label count mismatch, non-digit label', () => {
    let dir = damaged('magic', (img, lbl) => {
      img[3] = 0x01;
      return [img, lbl];
    });
    expect(() => loadMnist({ split: 'test', dir })).toThrow(/t10k-images-idx3-ubyte: bad magic number 2049/);
    dir = damaged('header', (img, lbl) => [img.subarray(0, 10), lbl]);
    expect(() => loadMnist({ split: 'test', dir })).toThrow(/header/);
    dir = damaged('labelcount', (img, lbl) => {
      const l = lbl.slice(0, lbl.length - 1);
      new DataView(l.buffer).setUint32(4, 9999, false);
      return [img, l];
    });
    expect(() => loadMnist({ split: 'test', dir })).toThrow(
      /t10k-labels-idx1-ubyte: 9999 labels for 10000 images/,
    );
    dir = damaged('label', (img, lbl) => {
      lbl[8 + 5] = 42;
      return [img, lbl];
    });
    expect(() => loadMnist({ split: 'test', dir })).toThrow(/label 42 at index 5/);
    // Labels swapped for images: the magic check catches it.
    dir = damaged('swap', (img, lbl) => [lbl, img]);
    expect(() => loadMnist({ split: 'test', dir })).toThrow(/bad magic number 2049 \(expected 2051\)/);
  });

  it('a clean copy in a temp dir loads the same data', () => {
    const dir = join(tmp, 'clean');
    mkdirSync(dir);
    copyFileSync(join(src, names.images), join(dir, names.images));
    copyFileSync(join(src, names.labels), join(dir, names.labels));
    expect(loadMnist({ split: 'test', dir, limit: 50 }).fingerprint).toBe(
      loadMnist({ split: 'test', limit: 50 }).fingerprint,
    );
    expect(tf.memory().numTensors).toBe(0);
  });
});
