import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateImages,
  generatorApply,
  generatorCacheFile,
  generatorCacheKey,
  generatorFromStateDict,
  imageGrid,
  loadGenerator,
  loadMnist,
  loadTorchCheckpoint,
  saveGenerator,
  trainGenerator,
} from '../src/mnist/index.js';

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/G299.ckpt');

describe('generator training, cache and images', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend();
    tmp = mkdtempSync(join(tmpdir(), 'gcvi-gen-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const data = loadMnist({ split: 'train', limit: 512 });
  const cfg = { data, hidden: 32, steps: 60, batchSize: 32, learningRate: 3e-3, seed: 3 };

  it('VAE training lowers the negative ELBO; weights are cached and reused by key', () => {
    const losses: number[] = [];
    const a = trainGenerator({ ...cfg, cacheDir: tmp, logEvery: 1, onProgress: (_s, l) => losses.push(l) });
    expect(a.cached).toBe(false);
    expect(losses.length).toBe(60);
    // 784 pixels under p = 1/2 cost 784·log 2 ≈ 543 nats; training must beat the first steps clearly.
    const first = losses.slice(0, 5).reduce((s, v) => s + v, 0) / 5;
    expect(a.finalLoss).toBeLessThan(first - 80);
    expect(a.file && existsSync(a.file)).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const b = trainGenerator({ ...cfg, cacheDir: tmp });
    expect(b.cached).toBe(true);
    expect(b.key).toBe(a.key);
    expect(b.finalLoss).toBe(a.finalLoss);
    for (const k of Object.keys(a.params)) {
      expect(Array.from(b.params[k]!.dataSync())).toEqual(Array.from(a.params[k]!.dataSync()));
    }
    // Another config or other data → another key (retrained, not reused).
    expect(generatorCacheKey({ ...cfg, steps: 61 })).not.toBe(a.key);
    expect(generatorCacheKey({ ...cfg, data: loadMnist({ split: 'train', limit: 513 }) })).not.toBe(a.key);
    // Same config without a cache trains to the same weights (deterministic seed).
    const c = trainGenerator(cfg);
    expect(c.cached).toBe(false);
    expect(Math.abs(c.finalLoss - a.finalLoss)).toBeLessThan(1e-3);
    tf.dispose([...Object.values(a.params), ...Object.values(b.params), ...Object.values(c.params)]);
  });

  it('bad options and corrupt cache files give clear errors', () => {
    expect(() => trainGenerator({ ...cfg, steps: 0 })).toThrow(/steps/);
    expect(() => trainGenerator({ ...cfg, batchSize: 10_000 })).toThrow(/batchSize/);
    expect(() => trainGenerator({ ...cfg, latentDim: 8 })).toThrow(/latentDim: must be 64/);
    const bad = generatorCacheFile(tmp, { ...cfg, seed: 99 });
    expect(bad).toBe(join(tmp, `generator-${generatorCacheKey({ ...cfg, seed: 99 })}.tensors`));
    writeFileSync(bad, '{not a tensor file');
    expect(() => trainGenerator({ ...cfg, seed: 99, cacheDir: tmp })).toThrow(/generator-.*\.tensors: /);
    expect(() => loadGenerator(bad)).toThrow(/generator-.*\.tensors: /);
  });

  it('weights round-trip through the tensor file format; NaN weights and wrong kinds are refused', () => {
    const g = trainGenerator({ ...cfg, steps: 2 });
    const file = join(tmp, 'roundtrip.tensors');
    saveGenerator(file, g.params, { key: g.key, finalLoss: g.finalLoss, trainMs: 5 });
    const back = loadGenerator(file);
    expect([back.key, back.finalLoss, back.trainMs]).toEqual([g.key, g.finalLoss, 5]);
    for (const k of Object.keys(g.params)) {
      expect(Array.from(back.params[k]!.dataSync())).toEqual(Array.from(g.params[k]!.dataSync()));
    }
    const nan = { ...g.params, '2.bias': tf.fill([32], Number.NaN) };
    expect(() => saveGenerator(file, nan, { key: 'k', finalLoss: 0, trainMs: 0 })).toThrow(
      /'2\.bias'.*must be finite/,
    );
    tf.dispose([...Object.values(g.params), ...Object.values(back.params), nan['2.bias']]);
  });

  it.skipIf(!existsSync(FIXTURE))(
    'the imported fixture generates the golden G(z) on the tf backend (1e-5)',
    () => {
      const params = generatorFromStateDict(loadTorchCheckpoint(FIXTURE), FIXTURE);
      const zs = [0, 1].map((k) => Array.from({ length: 64 }, (_, j) => Math.sin(0.37 * (j + 1) * (k + 1))));
      const out = tf.tidy(() => generatorApply(params, tf.tensor2d(zs)).arraySync());
      // Golden values from scripts/golden-g299.py (PyTorch, float64).
      expect(Math.abs(out[0]![434]! - -0.889182931)).toBeLessThan(1e-5);
      expect(Math.abs(out[0]![490]! - -0.603386943)).toBeLessThan(1e-5);
      expect(Math.abs(out[1]![100]! - -0.125307054)).toBeLessThan(1e-5);
      expect(Math.abs(out[1]![378]! - 0.451995386)).toBeLessThan(1e-5);
      const img = tf.tidy(() => generateImages(params, tf.tensor2d(zs)).arraySync());
      expect(Math.abs(img[1]![13]![14]! - (0.451995386 + 1) / 2)).toBeLessThan(1e-5); // pixel 378 = row 13, col 14
      expect(() => generatorFromStateDict({}, 'empty.ckpt')).toThrow(/empty\.ckpt: no '0\.weight'/);
      tf.dispose(Object.values(params));
    },
  );

  it('image grid of given or generated images', () => {
    const imgs = tf.tidy(() => tf.reshape(tf.range(0, 4 * 784), [4, 28, 28]).div(4 * 784));
    const grid = imageGrid({ images: imgs }, 2, 2, 1);
    expect([grid.width, grid.height]).toEqual([59, 59]);
    expect(grid.pixels[0]).toBe(1); // padding
    expect(grid.pixels[1 * 59 + 1]).toBeCloseTo(0, 6); // first pixel of image 0
    expect(grid.pixels[1 * 59 + 30]).toBeCloseTo(784 / (4 * 784), 6); // first pixel of image 1
    expect(grid.pixels[(1 + 29) * 59 + 1]).toBeCloseTo((2 * 784) / (4 * 784), 6); // first pixel of image 2
    const g = trainGenerator({ ...cfg, steps: 2 });
    const sampled = imageGrid({ params: g.params, rng: createRng(1) }, 3, 4);
    expect(sampled.pixels.length).toBe(sampled.width * sampled.height);
    expect(() => imageGrid({ images: imgs }, 3, 2)).toThrow(/images: expected shape \[>=6, 28, 28\]/);
    tf.dispose([imgs, ...Object.values(g.params)]);
  });
});
