import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNsf, nsf, saveNsf } from '@gcvi/flows';
import { createRng, FileFormatError, initBackend, readTensorFile, writeTensorFile } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bentFlow } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('saveNsf / loadNsf', () => {
  it('round-trips spec and parameters bit for bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-nsf-'));
    try {
      const { flow, params, rng } = bentFlow({
        dim: 3,
        contextDim: 2,
        layers: 3,
        bins: 5,
        hidden: 8,
        box: { low: [0, -1, -2], high: [1, 1, 2] },
      });
      const vars = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tf.variable(t)]));
      const file = join(dir, 'flow.gcvi');
      saveNsf(file, flow, vars);
      const loaded = loadNsf(file);
      expect(loaded.flow.spec).toEqual(flow.spec);
      const theta = rng.uniformTensor([20, 3], -0.5, 0.5);
      const ctx = rng.normalTensor([20, 2]);
      const a = Array.from(flow.logProb(params, theta, ctx).dataSync());
      const b = Array.from(loaded.flow.logProb(loaded.params, theta, ctx).dataSync());
      expect(b).toEqual(a);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a file written before the lu option existed as a flow without LU layers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-nsf-'));
    try {
      const old = nsf({ dim: 2, contextDim: 1, layers: 2, bins: 4, hidden: 8, lu: false });
      const params = old.init(createRng(5));
      const file = join(dir, 'old.gcvi');
      saveNsf(file, old, params);
      // Remove `lu` from the stored spec, as older versions wrote it (the file is rewritten
      // through the tensor-file writer, so its checksums stay valid).
      const stored = readTensorFile(file, { kind: 'gcvi/nsf' });
      const { lu: _, ...spec } = (stored.meta as { spec: Record<string, unknown> }).spec;
      writeTensorFile(file, { kind: 'gcvi/nsf', meta: { spec }, tensors: stored.tensors });
      const loaded = loadNsf(file);
      expect(loaded.flow.spec.lu).toBe(false);
      expect(Object.keys(loaded.params).sort()).toEqual(Object.keys(params).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file on a damaged or foreign file, and the parameter on bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-nsf-'));
    try {
      const flow = nsf({ dim: 2, contextDim: 1 });
      const params = flow.init(createRng(0));
      const bad = join(dir, 'bad.gcvi');
      writeFileSync(bad, 'not a tensor file');
      expect(() => loadNsf(bad)).toThrow(FileFormatError);
      expect(() => loadNsf(join(dir, 'missing.gcvi'))).toThrow(/missing.gcvi/);
      const { 'c1.w2': _, ...partial } = params;
      expect(() => saveNsf(join(dir, 'p.gcvi'), flow, partial)).toThrow(/params.c1.w2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
