import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, FileFormatError, initBackend, readTensorFile, writeTensorFile } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeParams,
  dense,
  type Encoder,
  encoderFromSpec,
  flatten,
  generatorMlp,
  isab,
  linearize,
  loadParams,
  mab,
  mnistAngleEncoder,
  mnistLatentEncoder,
  type NamedTensors,
  numParams,
  PARAMS_FORMAT,
  pma,
  sab,
  saveParams,
  setTransformer,
  unflatten,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'gcvi-encoders-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync()).buffer);
}

describe('flatten / unflatten', () => {
  it('round-trips exactly in paramSpecs order and is differentiable', () => {
    const enc = setTransformer({ inputSize: 1, width: 8, heads: 2, seeds: 2 });
    const p = enc.init(createRng(1));
    const v = flatten(p, enc.paramSpecs);
    expect(v.shape).toEqual([numParams(enc.paramSpecs)]);
    const first = enc.paramSpecs[0]!;
    expect(
      Array.from(
        v
          .slice(
            0,
            first.shape.reduce((a, b) => a * b, 1),
          )
          .dataSync(),
      ),
    ).toEqual(Array.from(p[first.name]!.dataSync()));
    const back = unflatten(v, enc.paramSpecs);
    for (const s of enc.paramSpecs) {
      expect(back[s.name]!.shape).toEqual([...s.shape]);
      expect(bits(back[s.name]!)).toEqual(bits(p[s.name]!));
    }
    // d/dv Σ f(unflatten(v)) equals flatten(d/dp Σ f(p)).
    const x = createRng(2).normalTensor([2, 4, 1]);
    const gv = tf.grad((vec: tf.Tensor) => tf.sum(enc.apply(unflatten(vec, enc.paramSpecs), x)))(v);
    const names = enc.paramSpecs.map((s) => s.name);
    const gp = tf.grads((...ps: tf.Tensor[]) =>
      tf.sum(enc.apply(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x)),
    )(names.map((n) => p[n]!));
    const gpFlat = flatten(Object.fromEntries(names.map((n, i) => [n, gp[i]!])), enc.paramSpecs);
    expect(Math.max(...Array.from(tf.abs(tf.sub(gv, gpFlat)).dataSync()))).toBeLessThan(1e-6);
  });

  it('names missing, extra and misshapen parameters and a wrong vector length', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [3], outputSize: 1 });
    expect(() => flatten({ w0: tf.zeros([2, 3]) }, enc.paramSpecs)).toThrow(/params\.w1/);
    expect(() => flatten({ w0: tf.zeros([2, 3]), w1: tf.zeros([3, 2]) }, enc.paramSpecs)).toThrow(
      /params\.w1/,
    );
    expect(() =>
      flatten({ w0: tf.zeros([2, 3]), w1: tf.zeros([3, 1]), w9: tf.zeros([1]) }, enc.paramSpecs),
    ).toThrow(/params\.w9/);
    expect(() => unflatten(tf.zeros([8]), enc.paramSpecs)).toThrow(/vector: expected shape \[9\]/);
  });
});

describe('saveParams / loadParams', () => {
  it('round-trips bit for bit, special values included, and leaves no temporary files', async () => {
    const specials = new Float32Array([
      Number.NaN,
      -0,
      Number.POSITIVE_INFINITY,
      -Number.MAX_VALUE,
      1e-45,
      3.4e38,
    ]);
    const params: NamedTensors = {
      'a.w': createRng(1).normalTensor([3, 4]),
      specials: tf.tensor(specials, [2, 3]),
      scalar: tf.scalar(0.1),
      empty: tf.zeros([0, 5]),
    };
    const spec = { kind: 'custom', note: 'ünïcode ✓' };
    const path = join(dir, 'nested', 'p.gcvip');
    await saveParams(path, spec, params);
    await saveParams(path, spec, params); // overwrite in place
    const back = await loadParams(path);
    expect(back.spec).toEqual(spec);
    expect(Object.keys(back.params)).toEqual(Object.keys(params));
    for (const [k, t] of Object.entries(params)) {
      expect(back.params[k]!.shape).toEqual(t.shape);
      expect(bits(back.params[k]!)).toEqual(bits(t));
    }
    expect(await readdir(join(dir, 'nested'))).toEqual(['p.gcvip']);
    // It is a runtime tensor file of kind gcvi/encoder with the spec in its meta.
    const raw = readTensorFile(path, { kind: PARAMS_FORMAT });
    expect(raw.meta).toEqual({ spec });
    expect(raw.tensors.scalar!.shape).toEqual([]);
  });

  it('refuses truncated, corrupt, padded or foreign files with a FileFormatError naming the file', async () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
    const path = join(dir, 'ok.gcvip');
    await saveParams(path, enc.spec, enc.init(createRng(1)));
    const good = await readFile(path);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated-payload', good.subarray(0, good.length - 3), /truncated: \d+ bytes, the header says/],
      ['truncated-header', good.subarray(0, 40), /truncated: the header needs/],
      ['tiny', good.subarray(0, 5), /truncated/],
      ['trailing', Buffer.concat([good, Buffer.from([0])]), /1 unexpected bytes after the payload/],
      [
        'flipped',
        Buffer.from(good.map((b, i) => (i === good.length - 2 ? b ^ 1 : b))),
        /checksum \(sha256\) does not match/,
      ],
      ['magic', Buffer.concat([Buffer.from('NOTMAGIC'), good.subarray(8)]), /not a gcvi tensor file/],
      ['json', Buffer.from(good.map((b, i) => (i === 17 ? 0x7b : b))), /not valid JSON/],
      ['future', Buffer.from(good.map((b, i) => (i === 8 ? b + 1 : b))), /format version 2 is newer/],
    ];
    for (const [name, bytes, msg] of cases) {
      const p = join(dir, `${name}.gcvip`);
      await writeFile(p, bytes);
      const err = await loadParams(p).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(FileFormatError);
      expect((err as FileFormatError).file).toBe(p);
      expect((err as Error).message, name).toMatch(msg);
    }
    await expect(loadParams(join(dir, 'missing.gcvip'))).rejects.toThrow(/missing\.gcvip: no such file/);
    // Another kind of tensor file, or one without a spec.
    const other = join(dir, 'state.gcvi');
    writeTensorFile(other, { kind: 'gcvi/fit-state', meta: {}, tensors: {} });
    await expect(loadParams(other)).rejects.toThrow(
      /state\.gcvi: holds 'gcvi\/fit-state', expected 'gcvi\/encoder'/,
    );
    const nospec = join(dir, 'nospec.gcvip');
    writeTensorFile(nospec, { kind: PARAMS_FORMAT, meta: {}, tensors: {} });
    await expect(loadParams(nospec)).rejects.toThrow(/nospec\.gcvip: meta\.spec is missing/);
    // The bytes API names what it was given.
    expect(() => decodeParams(good.subarray(0, 30), 'weights in memory')).toThrow(
      /^weights in memory: truncated/,
    );
  });
});

describe('encoderFromSpec', () => {
  const encoders: Encoder[] = [
    dense({ inputSize: 2, hiddenSizes: [8, 4], outputSize: 2 }),
    setTransformer({ inputSize: 1, width: 8, heads: 2, seeds: 3 }),
    mab({ dimQ: 2, dimK: 3, dimV: 4, heads: 2, prefix: 'm.' }),
    sab({ dimIn: 2, dimOut: 4, heads: 2 }),
    isab({ dimIn: 2, dimOut: 4, heads: 2, inducing: 3 }),
    pma({ dim: 4, heads: 2, seeds: 2 }),
    mnistAngleEncoder({ leakySlope: 0.2 }),
    mnistLatentEncoder(),
    generatorMlp(),
  ];
  it('rebuilds every encoder kind from its JSON spec (through a saved file)', async () => {
    for (const enc of encoders) {
      const path = join(dir, `${enc.spec.kind}.gcvip`);
      await saveParams(path, enc.spec, enc.init(createRng(3)));
      const { spec, params } = await loadParams(path);
      const again = encoderFromSpec(JSON.parse(JSON.stringify(spec)));
      expect(again.spec).toEqual(enc.spec);
      expect(again.paramSpecs).toEqual(enc.paramSpecs);
      expect(again.outputSize).toBe(enc.outputSize);
      expect(Object.keys(params)).toEqual(Object.keys(enc.init(createRng(3))));
    }
  });

  it('rebuilds a linearized twin given φ0 and refuses without it', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 2 });
    const p0 = enc.init(createRng(1));
    const lin = linearize(enc, p0);
    expect(() => encoderFromSpec(lin.spec)).toThrow(/params0/);
    const again = encoderFromSpec(lin.spec, { params0: p0 });
    const x = tf.ones([2, 2]);
    const p = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 2 }).init(createRng(9));
    expect(bits(again.apply(p, x))).toEqual(bits(lin.apply(p, x)));
  });

  it('names an unknown kind and lists the known ones; validates fields', () => {
    expect(() => encoderFromSpec({ kind: 'rnn' })).toThrow(
      /spec\.kind: unknown encoder kind 'rnn'; known kinds: dense, /,
    );
    expect(() => encoderFromSpec({ kind: 'dense', inputSize: 2, hiddenSizes: [4] })).toThrow(/outputSize/);
  });
});
