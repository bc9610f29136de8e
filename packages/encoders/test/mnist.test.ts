import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generatorMlp,
  jvp,
  mnistAngleEncoder,
  mnistLatentEncoder,
  type NamedTensors,
  numParams,
} from '../src/index.js';
import { angleRef, generatorRef, latentRef, maxAbs, maxAbsDiff, perturb, toP64 } from './ref.js';

beforeAll(async () => {
  await initBackend();
});

function images(seed: number, shape: number[]): tf.Tensor {
  return createRng(seed).uniformTensor(shape, 0, 1);
}

describe('mnistAngleEncoder', () => {
  const enc = mnistAngleEncoder();
  let p: NamedTensors;
  beforeAll(() => {
    p = enc.init(createRng(1));
  });

  it('has the E3 architecture (flatten 2·2·64 = 256) and PyTorch-default init bounds', () => {
    const shapes = Object.fromEntries(enc.paramSpecs.map((s) => [s.name, s.shape]));
    expect(shapes['conv2.w']).toEqual([3, 3, 16, 64]);
    expect(shapes['fc0.w']).toEqual([256, 512]);
    expect(shapes['out.w']).toEqual([512, 2]);
    // 4·9+4 + 16·36+16 + 64·144+64 + 256·512+512 + 2·(512·512+512) + 512·2+2
    expect(numParams(enc.paramSpecs)).toBe(40 + 592 + 9280 + 131584 + 2 * 262656 + 1026);
    // conv1 fanIn = 4·9 = 36 → bound 1/6.
    expect(maxAbs(p['conv1.w']!.dataSync())).toBeLessThanOrEqual(1 / 6);
    expect(maxAbs(p['conv1.w']!.dataSync())).toBeGreaterThan(0.16);
  });

  it('averages per-image outputs over each set and matches a float64 reference', () => {
    const x = images(2, [2, 3, 28, 28]);
    const y = enc.apply(p, x);
    expect(y.shape).toEqual([2, 2]);
    const p64 = toP64(p);
    const data = x.dataSync();
    const want: number[] = [];
    for (let b = 0; b < 2; b++) {
      const acc = [0, 0];
      for (let i = 0; i < 3; i++) {
        const o = angleRef(data.subarray((b * 3 + i) * 784, (b * 3 + i + 1) * 784), p64);
        acc[0]! += o[0]! / 3;
        acc[1]! += o[1]! / 3;
      }
      want.push(...acc);
    }
    expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
    // Order of the images in a set does not matter.
    const perm = tf.gather(x, tf.tensor1d([2, 0, 1], 'int32'), 1);
    expect(maxAbsDiff(enc.apply(p, perm).dataSync(), y.dataSync())).toBeLessThan(1e-6);
  });

  it('names a wrong input shape', () => {
    expect(() => enc.apply(p, tf.zeros([3, 28, 28]))).toThrow(/x: expected shape \[sets, images, 28, 28\]/);
  });
});

describe('mnistLatentEncoder', () => {
  const enc = mnistLatentEncoder();
  let p: NamedTensors;
  beforeAll(() => {
    p = enc.init(createRng(3));
  });

  it('has trainable convolutions on this backend: ∇ matches float64 finite differences', () => {
    // Directional derivative of L = Σ r ⊙ f(x; φ) along v, from tf.grads vs central differences.
    const x = images(9, [2, 28, 28]);
    const r = createRng(10).normalTensor([2, 128]);
    const rng = createRng(11);
    const v: NamedTensors = {};
    for (const s of enc.paramSpecs) v[s.name] = rng.normalTensor([...s.shape]);
    const names = enc.paramSpecs.map((s) => s.name);
    const grads = tf.grads((...ps: tf.Tensor[]) =>
      tf.sum(tf.mul(enc.apply(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x), r)),
    )(names.map((n) => p[n]!));
    const dir = grads.reduce((acc, g, i) => acc + tf.sum(tf.mul(g, v[names[i]!]!)).dataSync()[0]!, 0);
    const h = 1e-6;
    const p64 = toP64(p);
    const v64 = toP64(v);
    const rs = r.dataSync();
    const data = x.dataSync();
    let fd = 0;
    for (let i = 0; i < 2; i++) {
      const img = data.subarray(i * 784, (i + 1) * 784);
      const a = latentRef(img, perturb(p64, v64, h));
      const b = latentRef(img, perturb(p64, v64, -h));
      for (let j = 0; j < 128; j++) fd += (rs[i * 128 + j]! * (a[j]! - b[j]!)) / (2 * h);
    }
    expect(Math.abs(dir - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
  });

  it('maps [N, 28, 28] to [N, 128] (64 means, 64 log-sds) like a float64 reference', () => {
    expect(enc.paramSpecs.find((s) => s.name === 'fc0.w')?.shape).toEqual([32, 64]);
    const x = images(4, [3, 28, 28]);
    const y = enc.apply(p, x);
    expect(y.shape).toEqual([3, 128]);
    const p64 = toP64(p);
    const data = x.dataSync();
    const want = [0, 1, 2].flatMap((i) => Array.from(latentRef(data.subarray(i * 784, (i + 1) * 784), p64)));
    expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
  });

  it('double-VJP jvp through the convolutions matches float64 central finite differences', () => {
    const rng = createRng(5);
    const v: NamedTensors = {};
    for (const s of enc.paramSpecs) v[s.name] = rng.normalTensor([...s.shape]);
    const x = images(6, [2, 28, 28]);
    const got = jvp(enc, p, x, v).dataSync();
    const h = 1e-6;
    const p64 = toP64(p);
    const v64 = toP64(v);
    const data = x.dataSync();
    const fd = [0, 1].flatMap((i) => {
      const img = data.subarray(i * 784, (i + 1) * 784);
      const a = latentRef(img, perturb(p64, v64, h));
      const b = latentRef(img, perturb(p64, v64, -h));
      return Array.from(a, (val, j) => (val - b[j]!) / (2 * h));
    });
    expect(maxAbsDiff(got, fd)).toBeLessThan(1e-4 * Math.max(1, maxAbs(fd)));
  });
});

describe('generatorMlp', () => {
  const gen = generatorMlp();

  it('uses PyTorch state-dict names and [out, in] layout', () => {
    expect(gen.paramSpecs).toEqual([
      { name: '0.weight', shape: [256, 64] },
      { name: '0.bias', shape: [256] },
      { name: '2.weight', shape: [256, 256] },
      { name: '2.bias', shape: [256] },
      { name: '4.weight', shape: [784, 256] },
      { name: '4.bias', shape: [784] },
    ]);
  });

  it('computes tanh(W4 relu(W2 relu(W0 z + b0) + b2) + b4) in (−1, 1) like a float64 reference', () => {
    const p = gen.init(createRng(7));
    const z = createRng(8).normalTensor([4, 64], 0, 3);
    const y = gen.apply(p, z);
    expect(y.shape).toEqual([4, 784]);
    const data = y.dataSync();
    expect(maxAbs(data)).toBeLessThanOrEqual(1);
    const zs = z.dataSync();
    const p64 = toP64(p);
    const want = [0, 1, 2, 3].flatMap((i) =>
      Array.from(generatorRef(zs.subarray(i * 64, (i + 1) * 64), p64)),
    );
    expect(maxAbsDiff(data, want)).toBeLessThan(1e-5);
    expect(() => gen.apply(p, tf.zeros([2, 32]))).toThrow(/x: expected shape \[N, 64\]/);
  });
});
