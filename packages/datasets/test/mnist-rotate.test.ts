import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { rotateImageReference, rotateImages } from '../src/mnist/index.js';

const H = 28;
const W = 28;
// Synthetic image and weights, rebuilt exactly as in scripts/golden-rotate.py.
const img = new Float64Array(H * W);
const wts = new Float64Array(H * W);
for (let i = 0; i < H; i++) {
  for (let j = 0; j < W; j++) {
    img[i * W + j] = Math.sin(0.3 * i) * Math.cos(0.2 * j) + (0.01 * i * j) / 28;
    wts[i * W + j] = Math.cos(0.1 * (i + 2 * j));
  }
}
// PyTorch 1.13 affine_grid + grid_sample (align_corners=False, border), float64; see the script.
const GOLDEN = {
  pixels: [0, 29, 100, 203, 350, 406, 434, 517, 600, 783],
  260: {
    values: [
      0.866907706, 0.787914325, -0.544226923, 0.05989019, 0.593020894, 0.688504186, 0.683999776, 0.73513376,
      0.479515544, 0.0,
    ],
    grad: -20.46286606,
  },
  33: {
    values: [
      0.0, 0.0, -0.37249756, -0.634060601, 0.621661729, 0.882655987, 0.916996809, 0.550177201, 0.088855306,
      -0.737344046,
    ],
    grad: -49.684543215,
  },
} as const;

const rad = (deg: number) => (deg * Math.PI) / 180;

function rotateTf(images: Float64Array[], angle: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor3d(Float32Array.from(images.flatMap((a) => Array.from(a))), [images.length, H, W]);
    return rotateImages(x, tf.scalar(angle)).dataSync() as Float32Array;
  });
}

describe('rotateImages', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('90° counterclockwise is the exact permutation out[i][j] = in[j][27 − i] away from the border', () => {
    const out = rotateTf([img], Math.PI / 2);
    for (let i = 1; i < H - 1; i++) {
      for (let j = 1; j < W - 1; j++) {
        expect(Math.abs((out[i * W + j] as number) - (img[j * W + (W - 1 - i)] as number))).toBeLessThan(
          1e-5,
        );
      }
    }
    // Orientation: the input's top-right corner lands top-left (counterclockwise as displayed).
    expect(out[0]).toBeCloseTo(img[W - 1] as number, 5);
  });

  it('180° is out[i][j] = in[27 − i][27 − j]; 270° is out[i][j] = in[27 − j][i]', () => {
    const two = new Float64Array(img.map((v, k) => v * 0.5 + (k % 7) * 0.1));
    const o180 = rotateTf([img, two], Math.PI);
    const o270 = rotateTf([img], (3 * Math.PI) / 2);
    for (let i = 1; i < H - 1; i++) {
      for (let j = 1; j < W - 1; j++) {
        const k = i * W + j;
        expect(Math.abs((o180[k] as number) - (img[(H - 1 - i) * W + (W - 1 - j)] as number))).toBeLessThan(
          1e-5,
        );
        expect(
          Math.abs((o180[H * W + k] as number) - (two[(H - 1 - i) * W + (W - 1 - j)] as number)),
        ).toBeLessThan(1e-5);
        expect(Math.abs((o270[k] as number) - (img[(H - 1 - j) * W + i] as number))).toBeLessThan(1e-5);
      }
    }
  });

  it('equals PyTorch grid_sample (align_corners=False, border) and the float64 reference at 260° and 33°', () => {
    for (const deg of [260, 33] as const) {
      const out = rotateTf([img], rad(deg));
      const ref = rotateImageReference(img, rad(deg), H, W);
      GOLDEN.pixels.forEach((p, k) => {
        expect(Math.abs((out[p] as number) - GOLDEN[deg].values[k]!)).toBeLessThan(2e-5);
        expect(Math.abs((ref[p] as number) - GOLDEN[deg].values[k]!)).toBeLessThan(1e-8);
      });
      for (let p = 0; p < H * W; p++)
        expect(Math.abs((out[p] as number) - (ref[p] as number))).toBeLessThan(2e-5);
    }
  });

  it('d/dangle of Σ w·rotate(img, θ) matches PyTorch autograd and float64 central differences', () => {
    const x = tf.tensor3d(Float32Array.from(img), [1, H, W]);
    const w = tf.tensor3d(Float32Array.from(wts), [1, H, W]);
    const f = (a: tf.Tensor) => tf.sum(tf.mul(rotateImages(x, a), w));
    const g = tf.grad(f);
    for (const deg of [260, 33] as const) {
      const ours = tf.tidy(() => g(tf.scalar(rad(deg))).dataSync()[0] as number);
      const h = 1e-6;
      const F = (a: number) =>
        rotateImageReference(img, a, H, W).reduce((s, v, k) => s + v * (wts[k] as number), 0);
      const fd = (F(rad(deg) + h) - F(rad(deg) - h)) / (2 * h);
      expect(Math.abs(fd - GOLDEN[deg].grad)).toBeLessThan(1e-4);
      expect(Math.abs(ours - fd)).toBeLessThan(1e-3 * Math.abs(fd));
    }
    // A batch: the gradient is the sum over images.
    const x2 = tf.concat([x, x], 0);
    const g2 = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(rotateImages(x2, a), w)));
    const both = tf.tidy(() => g2(tf.scalar(rad(260))).dataSync()[0] as number);
    expect(both).toBeCloseTo(2 * GOLDEN[260].grad, 2);
    tf.dispose([x, w, x2]);
  });

  it('keeps no tensors and rejects bad shapes naming the argument', () => {
    const before = tf.memory().numTensors;
    rotateTf([img], 1.234);
    expect(tf.memory().numTensors).toBe(before);
    const bad = tf.zeros([28, 28]);
    expect(() => rotateImages(bad, 0.1)).toThrow(/images: expected shape \[N, H, W\]/);
    const x = tf.zeros([1, 28, 28]);
    expect(() => rotateImages(x, tf.tensor1d([1, 2]))).toThrow(/angle/);
    tf.dispose([bad, x]);
  });
});

describe('rotateImages gradient in the images', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('d/dimages of Σ w·rotate(img, θ) is the transpose of the bilinear map (float64 reference)', () => {
    const x = tf.tensor3d(Float32Array.from(img), [1, H, W]);
    const w = tf.tensor3d(Float32Array.from(wts), [1, H, W]);
    const a = rad(260);
    const g = tf.tidy(() =>
      tf
        .grad((im: tf.Tensor) => tf.sum(tf.mul(rotateImages(im, a), w)))(x)
        .dataSync(),
    );
    // Column p of the linear map: rotate the unit image e_p; the gradient is Σ_q w_q R[q, p].
    for (const p of [0, 27, 100, 203, 406, 783]) {
      const e = new Float64Array(H * W);
      e[p] = 1;
      const col = rotateImageReference(e, a, H, W);
      const want = col.reduce((s, v, q) => s + v * (wts[q] as number), 0);
      expect(Math.abs((g[p] as number) - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
    }
    tf.dispose([x, w]);
  });
});
