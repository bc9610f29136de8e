import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d, patches } from '../src/index.js';
import { maxAbs, maxAbsDiff } from './ref.js';

beforeAll(async () => {
  await initBackend();
});

/** Float64 'valid' convolution, NHWC, filter [kh, kw, c, co]. */
function convRef(x: Float64Array, xs: number[], w: Float64Array, ws: number[], s: number): Float64Array {
  const [n, h, wd, c] = xs as [number, number, number, number];
  const [kh, kw, , co] = ws as [number, number, number, number];
  const ho = Math.floor((h - kh) / s) + 1;
  const wo = Math.floor((wd - kw) / s) + 1;
  const out = new Float64Array(n * ho * wo * co);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let o = 0; o < co; o++) {
          let acc = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let i = 0; i < c; i++)
                acc +=
                  x[((b * h + s * oy + ky) * wd + s * ox + kx) * c + i]! *
                  w[((ky * kw + kx) * c + i) * co + o]!;
          out[((b * ho + oy) * wo + ox) * co + o] = acc;
        }
  return out;
}

describe('conv2d (trainable on every backend)', () => {
  for (const [h, w, c, co, k, s] of [
    [28, 28, 1, 4, 3, 2],
    [13, 11, 3, 5, 3, 2],
    [7, 7, 2, 3, 2, 1],
    [10, 9, 2, 2, 3, 3],
  ] as const) {
    it(`value and gradients match float64 references (${h}×${w}×${c} → ${co}, k=${k}, s=${s})`, () => {
      const rng = createRng(h * 100 + c);
      const x = rng.normalTensor([2, h, w, c]) as tf.Tensor4D;
      const f = rng.normalTensor([k, k, c, co]) as tf.Tensor4D;
      const y = conv2d(x, f, s);
      const xd = Float64Array.from(x.dataSync());
      const fd = Float64Array.from(f.dataSync());
      const want = convRef(xd, x.shape, fd, f.shape, s);
      expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
      // Directional derivative of L = Σ r ⊙ conv(x, f) along (dx, df) — L is bilinear, so the
      // central difference is exact up to rounding.
      const r = rng.normalTensor(y.shape);
      const dx = rng.normalTensor(x.shape);
      const df = rng.normalTensor(f.shape);
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s), r)),
      )([x, f]);
      const dir = tf.add(tf.sum(tf.mul(gx!, dx)), tf.sum(tf.mul(gf!, df))).dataSync()[0]!;
      const rd = r.dataSync();
      const L = (e: number) => {
        const xe = xd.map((v, i) => v + e * dx.dataSync()[i]!);
        const fe = fd.map((v, i) => v + e * df.dataSync()[i]!);
        return convRef(xe, x.shape, fe, f.shape, s).reduce((acc, v, i) => acc + v * rd[i]!, 0);
      };
      const fdDir = (L(1e-3) - L(-1e-3)) / 2e-3;
      expect(Math.abs(dir - fdDir)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fdDir)));
    });
  }

  it('patches lays out columns as (ky·kw + kx)·C + c', () => {
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const p = patches(x, 2, 2, 2);
    expect(p.shape).toEqual([4, 4]);
    expect(Array.from(p.dataSync())).toEqual([0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]);
  });

  it('names a filter that does not fit the input', () => {
    expect(() =>
      conv2d(tf.zeros([1, 5, 5, 2]) as tf.Tensor4D, tf.zeros([3, 3, 1, 4]) as tf.Tensor4D, 1),
    ).toThrow(/filter/);
  });
});
