import { type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { checkGeneratorParams, type GeneratorParams, generateImages } from './generator.js';

/**
 * A `rows × cols` grid of generated images (z ~ N(0, I) from `rng`), or of given images
 * `[n, 28, 28]`: `{ width, height, pixels }` with pixels in [0, 1], row-major, `pad` white pixels
 * between and around the images (for a figure or a PNG encoder).
 */
export function imageGrid(
  source: { params: GeneratorParams; rng: Rng } | { images: tf.Tensor },
  rows: number,
  cols: number,
  pad = 2,
): { width: number; height: number; pixels: Float32Array } {
  const n = rows * cols;
  let imgs: Float32Array;
  if ('images' in source) {
    if (source.images.rank !== 3 || (source.images.shape[0] as number) < n) {
      throw new ShapeError('images', `[>=${n}, 28, 28]`, source.images.shape);
    }
    imgs = tf.tidy(() => tf.slice(source.images, [0, 0, 0], [n, 28, 28]).dataSync() as Float32Array);
  } else {
    const latentDim = checkGeneratorParams(source.params);
    imgs = tf.tidy(() => {
      const z = source.rng.normalTensor([n, latentDim]);
      return generateImages(source.params, z).dataSync() as Float32Array;
    });
  }
  const width = cols * 28 + (cols + 1) * pad;
  const height = rows * 28 + (rows + 1) * pad;
  const pixels = new Float32Array(width * height).fill(1);
  for (let k = 0; k < n; k++) {
    const r0 = pad + Math.floor(k / cols) * (28 + pad);
    const c0 = pad + (k % cols) * (28 + pad);
    for (let i = 0; i < 28; i++) {
      for (let j = 0; j < 28; j++) pixels[(r0 + i) * width + c0 + j] = imgs[k * 784 + i * 28 + j] as number;
    }
  }
  return { width, height, pixels };
}
