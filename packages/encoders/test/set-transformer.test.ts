import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attention,
  isab,
  jvp,
  linearize,
  mab,
  type NamedTensors,
  pma,
  sab,
  setTransformer,
} from '../src/index.js';
import { attentionRef, maxAbs, maxAbsDiff, perturb, type Rows, setTransformerRef, toP64 } from './ref.js';

beforeAll(async () => {
  await initBackend();
});

function rows(t: tf.Tensor, b: number): Rows {
  const [, n, d] = t.shape as [number, number, number];
  const data = t.dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray((b * n + i) * d, (b * n + i + 1) * d)));
}

/** Reorder the elements of every set: x[:, perm[i], :]. */
function permuteSet(x: tf.Tensor, perm: Int32Array): tf.Tensor {
  return tf.gather(x, tf.tensor1d(perm, 'int32'), 1);
}

describe('attention', () => {
  it('matches a float64 multi-head softmax reference (1 and 4 heads, custom scale)', () => {
    const rng = createRng(1);
    const q = rng.normalTensor([2, 3, 8]);
    const k = rng.normalTensor([2, 5, 8]);
    const v = rng.normalTensor([2, 5, 8]);
    for (const [heads, scale] of [
      [1, undefined],
      [4, undefined],
      [2, 0.7],
    ] as const) {
      const got = attention(q, k, v, heads, scale);
      expect(got.shape).toEqual([2, 3, 8]);
      for (let b = 0; b < 2; b++) {
        const want = attentionRef(rows(q, b), rows(k, b), rows(v, b), heads, scale).flat();
        expect(maxAbsDiff(rows(got, b).flat(), want)).toBeLessThan(1e-5);
      }
    }
  });

  it('names bad arguments', () => {
    const q = tf.zeros([1, 2, 6]);
    expect(() => attention(q, tf.zeros([1, 3, 4]), tf.zeros([1, 3, 6]), 2)).toThrow(/^k: /);
    expect(() => attention(q, tf.zeros([1, 3, 6]), tf.zeros([1, 2, 6]), 2)).toThrow(/^v: /);
    expect(() => attention(q, tf.zeros([1, 3, 6]), tf.zeros([1, 3, 6]), 4)).toThrow(/heads/);
  });

  it('is stable for huge logits (softmax saturates, no NaN)', () => {
    const q = tf.mul(tf.ones([1, 1, 4]), 1e4);
    const k = tf.tensor3d([
      [
        [1, 1, 1, 1],
        [-1, -1, -1, -1],
      ],
    ]);
    const v = tf.tensor3d([
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
    ]);
    expect(Array.from(attention(q, k, v, 2).dataSync())).toEqual([1, 2, 3, 4]);
  });
});

describe('Set Transformer', () => {
  const cfg = { inputSize: 1, width: 8, heads: 2, seeds: 3, outputSize: 2 };

  it('has the documented output shape [B, seeds, outputSize] and default E2 architecture', () => {
    const st = setTransformer({ inputSize: 1, seeds: 5 });
    expect(st.spec).toEqual({
      kind: 'set-transformer',
      inputSize: 1,
      width: 64,
      heads: 4,
      seeds: 5,
      outputSize: 2,
      fusedAttention: false,
    });
    const p = st.init(createRng(1));
    const y = st.apply(p, createRng(2).normalTensor([3, 10, 1]));
    expect(y.shape).toEqual([3, 5, 2]);
    expect(st.paramSpecs.find((s) => s.name === 'pma.S')?.shape).toEqual([5, 64]);
    expect(Object.keys(p).sort()).toEqual(st.paramSpecs.map((s) => s.name).sort());
  });

  it('matches a float64 reference implementation', () => {
    const st = setTransformer(cfg);
    const p = st.init(createRng(3));
    const x = createRng(4).normalTensor([2, 6, 1]);
    const y = st.apply(p, x);
    const p64 = toP64(p);
    for (let b = 0; b < 2; b++) {
      const want = setTransformerRef(rows(x, b), p64, cfg.heads).flat();
      expect(maxAbsDiff(rows(y, b).flat(), want)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
    }
  });

  it('is invariant to permutations of each set', () => {
    const st = setTransformer({ inputSize: 2, width: 16, heads: 4, seeds: 5, outputSize: 2 });
    const p = st.init(createRng(5));
    const x = createRng(6).normalTensor([2, 9, 2]);
    const y = st.apply(p, x).dataSync();
    for (const seed of [7, 8, 9]) {
      const perm = createRng(seed).permutation(9);
      const yp = st.apply(p, permuteSet(x, perm)).dataSync();
      expect(maxAbsDiff(y, yp)).toBeLessThan(1e-5 * Math.max(1, maxAbs(y)));
    }
    // Sanity: it does depend on the set's contents.
    const other = st.apply(p, tf.add(x, 0.5)).dataSync();
    expect(maxAbsDiff(y, other)).toBeGreaterThan(1e-3);
  });

  it('SAB and ISAB are permutation equivariant; PMA is invariant', () => {
    const rng = createRng(10);
    const x = rng.normalTensor([2, 7, 4]);
    const perm = createRng(11).permutation(7);
    const xp = permuteSet(x, perm);
    for (const block of [
      sab({ dimIn: 4, dimOut: 8, heads: 2 }),
      isab({ dimIn: 4, dimOut: 8, heads: 2, inducing: 3 }),
    ]) {
      const p = block.init(createRng(12));
      const y = block.apply(p, x);
      expect(y.shape).toEqual([2, 7, 8]);
      expect(maxAbsDiff(permuteSet(y, perm).dataSync(), block.apply(p, xp).dataSync())).toBeLessThan(1e-5);
    }
    const pool = pma({ dim: 4, heads: 2, seeds: 2 });
    const pp = pool.init(createRng(13));
    const y = pool.apply(pp, x);
    expect(y.shape).toEqual([2, 2, 4]);
    expect(maxAbsDiff(y.dataSync(), pool.apply(pp, xp).dataSync())).toBeLessThan(1e-5);
  });

  it('MAB(X, Y) takes sets of different sizes and dims', () => {
    const block = mab({ dimQ: 3, dimK: 5, dimV: 4, heads: 2 });
    const p = block.init(createRng(1));
    const out = block.applyPair(p, tf.ones([2, 6, 3]), tf.ones([2, 4, 5]));
    expect(out.shape).toEqual([2, 6, 4]);
    expect(() => block.applyPair(p, tf.ones([2, 6, 3]), tf.ones([2, 4, 3]))).toThrow(/^y: /);
  });

  it('double-VJP jvp matches float64 central finite differences; the twin starts at f(φ0)', () => {
    const st = setTransformer(cfg);
    const p0 = st.init(createRng(20));
    const rng = createRng(21);
    const v: NamedTensors = {};
    for (const s of st.paramSpecs) v[s.name] = rng.normalTensor([...s.shape]);
    const x = createRng(22).normalTensor([2, 5, 1]);
    const got = jvp(st, p0, x, v);
    expect(got.shape).toEqual([2, 3, 2]);
    const h = 1e-6;
    const p64 = toP64(p0);
    const v64 = toP64(v);
    for (let b = 0; b < 2; b++) {
      const plus = setTransformerRef(rows(x, b), perturb(p64, v64, h), cfg.heads).flat();
      const minus = setTransformerRef(rows(x, b), perturb(p64, v64, -h), cfg.heads).flat();
      const fd = plus.map((a, i) => (a - minus[i]!) / (2 * h));
      expect(maxAbsDiff(rows(got, b).flat(), fd)).toBeLessThan(1e-4 * Math.max(1, maxAbs(fd)));
    }
    const lin = linearize(st, p0);
    expect(
      maxAbsDiff(lin.apply(lin.init(createRng(0)), x).dataSync(), st.apply(p0, x).dataSync()),
    ).toBeLessThan(1e-6);
    lin.dispose();
  });

  it('names bad configuration', () => {
    expect(() => setTransformer({ inputSize: 1, width: 10, heads: 4 })).toThrow(/heads/);
    expect(() => setTransformer({ inputSize: 0 })).toThrow(/inputSize/);
    const st = setTransformer({ inputSize: 2, width: 8, heads: 2 });
    expect(() => st.apply(st.init(createRng(1)), tf.ones([3, 2]))).toThrow(
      /x: expected shape \[batch, setSize, 2\]/,
    );
  });
});

describe('fused attention option', () => {
  it('gives the same outputs and gradients as the plain composition', () => {
    const x = createRng(30).normalTensor([2, 12, 1]);
    const plain = setTransformer({ inputSize: 1, width: 16, heads: 4, seeds: 3 });
    const fused = setTransformer({ inputSize: 1, width: 16, heads: 4, seeds: 3, fusedAttention: true });
    expect(fused.spec.fusedAttention).toBe(true);
    const p = plain.init(createRng(31));
    const a = plain.apply(p, x).dataSync();
    const b = fused.apply(p, x).dataSync();
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5 * Math.max(1, maxAbs(a)));
    const names = plain.paramSpecs.map((s) => s.name);
    const grad = (enc: typeof plain) =>
      tf.grads((...ps: tf.Tensor[]) =>
        tf.sum(tf.square(enc.apply(Object.fromEntries(names.map((n, i) => [n, ps[i]!])), x))),
      )(names.map((n) => p[n]!));
    const ga = grad(plain);
    const gb = grad(fused);
    for (let i = 0; i < names.length; i++) {
      const da = ga[i]!.dataSync();
      expect(maxAbsDiff(da, gb[i]!.dataSync()), names[i]).toBeLessThan(1e-4 * Math.max(1, maxAbs(da)));
    }
  });
});
