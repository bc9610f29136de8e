import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  expectedCoverage,
  loadPosterior,
  POSTERIOR_FORMAT_VERSION,
  sbc,
  zScoreContraction,
} from '@gcvi/inference';
import { createRng, FileFormatError, initBackend, readTensorFile, writeTensorFile } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePoints } from './fixtures/posterior-fixture-points.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, 'fixtures', 'posterior-v1.gcvi');
const expected = JSON.parse(readFileSync(join(here, 'fixtures', 'posterior-v1.expected.json'), 'utf8')) as {
  logProb: number[];
  mean: number[];
  mode: number[];
  sample: number[];
};
const tmp = mkdtempSync(join(tmpdir(), 'gcvi-fixture-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const close = (got: ArrayLike<number>, want: number[], tol: number) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    expect(Math.abs((got[i] as number) - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
};

describe('saved posterior written by @gcvi/inference 0.1.0 (format version 1)', () => {
  it('loads and scores, summarizes and samples as when it was written', () => {
    const post = loadPosterior(fixture);
    expect(post.family.kind).toBe('product');
    expect(post.family.circular).toEqual([true, false]);
    const { theta, x } = fixturePoints();
    close(post.logProb(theta, x).dataSync(), expected.logProb, 1e-5);
    close(post.mean(x).dataSync(), expected.mean, 1e-5);
    close(post.mode(x).dataSync(), expected.mode, 1e-5);
    close(post.sample(x, 2, createRng('fixture-sample')).dataSync(), expected.sample, 1e-4);
    post.dispose();
  });

  it('posterior methods and the diagnostics leave no tensors behind', () => {
    const post = loadPosterior(fixture);
    const { theta, x } = fixturePoints();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose([post.logProb(theta, x), post.mean(x), post.mode(x), post.sample(x, 5, createRng(i))]);
      tf.dispose(post.logProb([0.5, 0.1], [1, 0, 0]));
    }
    sbc(post, { pairs: { theta, x }, rng: createRng(1), samples: 9, bandSimulations: 50 });
    expectedCoverage(post, { pairs: { theta, x }, rng: createRng(2), samples: 20 });
    zScoreContraction(post, { pairs: { theta, x }, rng: createRng(3), samples: 20 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([theta, x]);
    post.dispose();
  });

  it('refuses files that are not posteriors, or newer than this version reads, naming the file', () => {
    const f = readTensorFile(fixture);
    expect(f.meta.formatVersion).toBe(1);
    const newer = join(tmp, 'newer.gcvi');
    writeTensorFile(newer, { ...f, meta: { ...f.meta, formatVersion: POSTERIOR_FORMAT_VERSION + 1 } });
    expect(() => loadPosterior(newer)).toThrow(FileFormatError);
    expect(() => loadPosterior(newer)).toThrow(/newer\.gcvi.*newer than/);
    const other = join(tmp, 'other.gcvi');
    writeTensorFile(other, { kind: 'gcvi/encoder', meta: {}, tensors: {} });
    expect(() => loadPosterior(other)).toThrow(/other\.gcvi/);
    const unknown = join(tmp, 'unknown.gcvi');
    writeTensorFile(unknown, { ...f, meta: { ...f.meta, family: { kind: 'no-such-family' } } });
    expect(() => loadPosterior(unknown)).toThrow(/unknown\.gcvi.*no-such-family/);
    const corrupt = join(tmp, 'corrupt.gcvi');
    copyFileSync(fixture, corrupt);
    const bytes = readFileSync(corrupt);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3]! + 1) % 256;
    writeFileSync(corrupt, bytes);
    expect(() => loadPosterior(corrupt)).toThrow(FileFormatError);
  });
});
