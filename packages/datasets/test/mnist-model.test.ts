import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  E3_TRUE_ANGLE,
  type GeneratorParams,
  rotatedMnistModel,
  rotateFlatMany,
  rotateImageReference,
  rotateImages,
} from '../src/mnist/index.js';

/** A small random generator with the E3 parameter names (latent 64, hidden 16). */
function smallGenerator(seed: number): GeneratorParams {
  const r = createRng(seed);
  return {
    '0.weight': r.normalTensor([16, 64], 0, 0.7 / 4),
    '0.bias': r.normalTensor([16], 0, 0.1),
    '2.weight': r.normalTensor([16, 16], 0, 0.4),
    '2.bias': r.normalTensor([16], 0, 0.1),
    '4.weight': r.normalTensor([784, 16], 0, 0.6),
    '4.bias': r.normalTensor([784], 0, 0.3),
  };
}

/** Float64 reference: image(z) = clamp((tanh(G(z)) + 1)/2). */
function imageRef(g: GeneratorParams, z: number[]): Float64Array {
  const lin = (x: number[], k: string) => {
    const W = g[`${k}.weight`]!.arraySync() as number[][];
    const b = g[`${k}.bias`]!.arraySync() as number[];
    return W.map((row, i) => row.reduce((s, w, j) => s + w * (x[j] as number), b[i] as number));
  };
  const relu = (x: number[]) => x.map((v) => Math.max(0, v));
  const out = lin(relu(lin(relu(lin(z, '0')), '2')), '4');
  return Float64Array.from(out, (a) => Math.min(1, Math.max(0, (Math.tanh(a) + 1) / 2)));
}

describe('rotatedMnistModel', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('simulates sets at the true angle whose residuals are N(0, σ²) and matches a float64 log-likelihood', () => {
    const g = smallGenerator(1);
    const model = rotatedMnistModel({ generator: g, nImages: 5, noiseSd: 0.05 });
    const set = model.observedSet(createRng(7));
    expect(set.theta).toBeCloseTo((260 * Math.PI) / 180, 12);
    expect(set.z.shape).toEqual([5, 64]);
    expect(set.x.shape).toEqual([5, 28, 28]);
    const z = set.z.arraySync();
    const x = set.x.dataSync();
    let ss = 0;
    for (let i = 0; i < 5; i++) {
      const mean = rotateImageReference(imageRef(g, z[i]!), E3_TRUE_ANGLE, 28, 28);
      for (let p = 0; p < 784; p++) ss += ((x[i * 784 + p] as number) - (mean[p] as number)) ** 2;
    }
    // Residual variance of 3,920 pixels: σ² within ±10% (the chi-square sd is ~2.3%).
    expect(ss / 3920 / 0.05 ** 2).toBeGreaterThan(0.9);
    expect(ss / 3920 / 0.05 ** 2).toBeLessThan(1.1);
    const refLl = (-0.5 * ss) / 0.05 ** 2 + 3920 * (-0.5 * Math.log(2 * Math.PI) - Math.log(0.05));
    const ll = tf.tidy(
      () => model.logLikelihood(tf.scalar(E3_TRUE_ANGLE), set.z, set.x).dataSync()[0] as number,
    );
    expect(Math.abs(ll - refLl)).toBeLessThan(1e-3 * Math.abs(refLl) + 0.5);
    const lj = tf.tidy(() => model.logJoint(tf.scalar(E3_TRUE_ANGLE), set.z, set.x).dataSync()[0] as number);
    const zPrior = z.flat().reduce((s, v) => s - 0.5 * v * v - 0.5 * Math.log(2 * Math.PI), 0);
    expect(Math.abs(lj - (ll + zPrior - Math.log(2 * Math.PI)))).toBeLessThan(1e-2);
    tf.dispose([set.z, set.x]);
  });

  it('log-likelihood over many angles peaks at the truth, equals the one-angle version, and its θ-gradient matches finite differences', () => {
    const g = smallGenerator(2);
    const model = rotatedMnistModel({ generator: g, nImages: 3, noiseSd: 0.2 });
    const set = model.simulate(createRng(3), { theta: 1.0 });
    const imgs = model.images(set.z);
    const grid = Array.from({ length: 36 }, (_, k) => (k * 2 * Math.PI) / 36 + 0.01);
    const many = tf.tidy(() => model.logLikelihoodAngles(tf.tensor1d(grid), imgs, set.x).arraySync());
    grid.forEach((a, k) => {
      const one = tf.tidy(() => model.logLikelihood(tf.scalar(a), set.z, set.x).dataSync()[0] as number);
      expect(Math.abs(one - many[k]!)).toBeLessThan(1e-4 * Math.abs(one) + 1e-2);
    });
    const best = grid[many.indexOf(Math.max(...many))]!;
    expect(Math.abs(best - 1.0)).toBeLessThan(0.2);
    const f = (a: tf.Tensor) => model.logLikelihoodAngles(a, imgs, set.x).sum();
    const grad = tf.tidy(
      () =>
        tf
          .grad(f)(tf.tensor1d([0.7]))
          .dataSync()[0] as number,
    );
    // Float64 reference: the log-likelihood is piecewise smooth in θ (bilinear cells), so take
    // central differences with a step far below the cell size.
    const I = imgs.arraySync().map((a) => a.flat());
    const X = set.x.arraySync().map((a) => a.flat());
    const ref = (a: number) => {
      let s = 0;
      for (let i = 0; i < 3; i++) {
        const m = rotateImageReference(I[i]!, a, 28, 28);
        for (let p = 0; p < 784; p++) s += -0.5 * ((X[i]![p]! - m[p]!) / 0.2) ** 2;
      }
      return s;
    };
    const h = 1e-6;
    const fd = (ref(0.7 + h) - ref(0.7 - h)) / (2 * h);
    expect(Math.abs(grad - fd)).toBeLessThan(1e-3 * Math.abs(fd));
    tf.dispose([set.z, set.x, imgs]);
  });

  it('rotateFlatMany equals one rotation per angle', () => {
    const r = createRng(5);
    const imgs = r.uniformTensor([2, 28, 28]);
    const angles = [0.3, 2.5, 4.4];
    const many = tf.tidy(() =>
      rotateFlatMany(tf.reshape(imgs, [2, 784]), tf.tensor1d(angles), 28, 28).arraySync(),
    );
    angles.forEach((a, k) => {
      const one = tf.tidy(() => rotateImages(imgs, a).reshape([2, 784]).arraySync() as number[][]);
      for (let i = 0; i < 2; i++)
        for (let p = 0; p < 784; p += 13) expect(many[k]![i]![p]).toBeCloseTo(one[i]![p]!, 5);
    });
    imgs.dispose();
  });

  it('bad options name the field', () => {
    const g = smallGenerator(1);
    expect(() => rotatedMnistModel({ generator: g, nImages: 0 })).toThrow(/nImages/);
    expect(() => rotatedMnistModel({ generator: g, nImages: 2, noiseSd: -1 })).toThrow(/noiseSd/);
    const { '2.bias': _drop, ...missing } = g;
    expect(() => rotatedMnistModel({ generator: missing, nImages: 2 })).toThrow(
      /generator: missing parameter '2\.bias'/,
    );
    const m = rotatedMnistModel({ generator: g, nImages: 2 });
    const z = tf.zeros([2, 5]);
    expect(() => m.logLikelihood(tf.scalar(0), z, tf.zeros([2, 28, 28]))).toThrow(
      /z: expected shape \[n, 64\]/,
    );
  });
});
