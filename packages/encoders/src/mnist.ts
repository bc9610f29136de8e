import {
  type DenseActivation,
  denseLayer,
  GcviDenseLayer,
  GcviIm2Col,
  hasFusedKernel,
  im2col,
} from '@gcvi/kernels';
import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { conv2d } from './conv.js';
import { torchDefaultUniform } from './init.js';
import type { Encoder, EncoderSpec, NamedTensors, ParamSpec } from './types.js';

/*
 * The convolutional encoders and the generator of DESIGN §2 E3. Convolutions are 3×3, stride 2,
 * no padding ('valid'), NHWC, filters `[3, 3, inC, outC]`; so 28 → 13 → 6 → 2 and three
 * convolutions flatten to 2·2·C (C = 64 gives the angle net's 256, C = 8 the latent net's 32).
 * Flattening is in NHWC order (row, column, channel). Dense weights are `[in, out]` except in the
 * generator, which uses PyTorch's `[out, in]` layout and names. Inits are PyTorch's defaults:
 * weights and biases Uniform(±1/√fanIn) (fanIn = inC·9 for a convolution).
 */

const CONV_SIZES = [28, 13, 6, 2];

function convSpecs(prefix: string, cin: number, cout: number): ParamSpec[] {
  return [
    { name: `${prefix}w`, shape: [3, 3, cin, cout] },
    { name: `${prefix}b`, shape: [cout] },
  ];
}

function denseSpecs(prefix: string, din: number, dout: number): ParamSpec[] {
  return [
    { name: `${prefix}w`, shape: [din, dout] },
    { name: `${prefix}b`, shape: [dout] },
  ];
}

/** PyTorch-default init for every `*w`/`*b` pair (bias fanIn = its weight's fanIn). */
function initAll(rng: Rng, specs: readonly ParamSpec[]): NamedTensors {
  const out: NamedTensors = {};
  const fanIn = new Map<string, number>();
  for (const s of specs) {
    if (s.shape.length > 1) {
      const f = s.shape.length === 4 ? s.shape[0]! * s.shape[1]! * s.shape[2]! : s.shape[0]!;
      fanIn.set(s.name.replace(/w$/, ''), f);
    }
  }
  for (const s of specs) {
    const f = fanIn.get(s.name.replace(/[wb]$/, ''));
    if (f === undefined) throw new Error(`internal: no fan-in for ${s.name}`);
    out[s.name] = torchDefaultUniform(rng.split(s.name), [...s.shape], f);
  }
  return out;
}

/** Whether the fused path (im2col + dense-layer kernels of @gcvi/kernels) runs on this backend. */
const fused = () => hasFusedKernel(GcviDenseLayer) && hasFusedKernel(GcviIm2Col);

/**
 * relu(conv(x, w, stride 2) + b). Fused (wasm, cpu): im2col, then one dense-layer kernel (SIMD
 * GEMM, bias and ReLU in one pass; its gradient from the saved output). Else tfjs ops.
 */
function conv(x: tf.Tensor4D, p: NamedTensors, prefix: string): tf.Tensor4D {
  const w = p[`${prefix}w`] as tf.Tensor4D;
  const b = p[`${prefix}b`]!;
  if (!fused()) return tf.relu(tf.add(conv2d(x, w, 2), b)) as tf.Tensor4D;
  const [kh, kw, c, co] = w.shape;
  const [n, h, wd] = x.shape;
  const ho = Math.floor((h - kh) / 2) + 1;
  const wo = Math.floor((wd - kw) / 2) + 1;
  const y = denseLayer(im2col(x, kh, kw, 2), tf.reshape(w, [kh * kw * c, co]), b, { activation: 'relu' });
  return tf.reshape(y, [n, ho, wo, co]) as tf.Tensor4D;
}

/** act(x W + b): the dense-layer kernel when fused, else matMul + add + activation. */
function affine(
  x: tf.Tensor,
  p: NamedTensors,
  prefix: string,
  activation: DenseActivation = 'linear',
  alpha = 0,
) {
  const w = p[`${prefix}w`] as tf.Tensor2D;
  const b = p[`${prefix}b`]!;
  if (fused()) return denseLayer(x, w, b, { activation, alpha });
  const pre = tf.add(tf.matMul(x as tf.Tensor2D, w), b);
  if (activation === 'relu') return tf.relu(pre);
  if (activation === 'leakyRelu') return tf.leakyRelu(pre, alpha);
  if (activation === 'tanh') return tf.tanh(pre);
  return pre;
}

export interface MnistAngleEncoderOptions {
  /** Negative slope of the LeakyReLUs (default 0.01, PyTorch's). */
  readonly leakySlope?: number;
}

export interface MnistAngleSpec extends EncoderSpec {
  readonly kind: 'mnist-angle';
  readonly leakySlope: number;
}

/**
 * E3's L_P angle encoder: per image conv(1→4) → ReLU → conv(4→16) → ReLU → conv(16→64) → ReLU →
 * flatten (2·2·64 = 256) → 3 × [dense 512, LeakyReLU] → dense 2; the per-image outputs are
 * averaged over each set. Input `[B, n, 28, 28]` (B sets of n images) → `[B, 2]` (natural
 * parameters η of the von Mises over the angle). Parameters `conv0..2.{w,b}`, `fc0..2.{w,b}`, `out.{w,b}`.
 */
export function mnistAngleEncoder(
  options: MnistAngleEncoderOptions = {},
): Encoder & { readonly spec: MnistAngleSpec } {
  const slope = options.leakySlope ?? 0.01;
  if (typeof slope !== 'number' || !Number.isFinite(slope) || slope < 0) {
    throw new ConfigError('leakySlope', `must be a finite number ≥ 0, got ${String(slope)}`);
  }
  const flat = CONV_SIZES[3]! * CONV_SIZES[3]! * 64;
  const paramSpecs = [
    ...convSpecs('conv0.', 1, 4),
    ...convSpecs('conv1.', 4, 16),
    ...convSpecs('conv2.', 16, 64),
    ...denseSpecs('fc0.', flat, 512),
    ...denseSpecs('fc1.', 512, 512),
    ...denseSpecs('fc2.', 512, 512),
    ...denseSpecs('out.', 512, 2),
  ];
  return {
    spec: { kind: 'mnist-angle', leakySlope: slope },
    paramSpecs,
    outputSize: 2,
    init: (rng) => initAll(rng, paramSpecs),
    apply(p: NamedTensors, x: tf.Tensor): tf.Tensor {
      if (x.rank !== 4 || x.shape[2] !== 28 || x.shape[3] !== 28) {
        throw new ShapeError('x', '[sets, images, 28, 28]', x.shape);
      }
      const [b, n] = x.shape as [number, number];
      return tf.tidy(() => {
        let h: tf.Tensor4D = tf.reshape(x, [b * n, 28, 28, 1]);
        h = conv(h, p, 'conv0.');
        h = conv(h, p, 'conv1.');
        h = conv(h, p, 'conv2.');
        let z = tf.reshape(h, [b * n, flat]);
        for (const l of ['fc0.', 'fc1.', 'fc2.']) z = affine(z, p, l, 'leakyRelu', slope);
        return tf.mean(tf.reshape(affine(z, p, 'out.'), [b, n, 2]), 1);
      });
    },
  };
}

export interface MnistLatentSpec extends EncoderSpec {
  readonly kind: 'mnist-latent';
}

/**
 * E3's per-image Gaussian encoder for the IWBO: conv(1→2) → ReLU → conv(2→4) → ReLU → conv(4→8) →
 * ReLU → flatten (2·2·8 = 32) → dense 64 → ReLU → dense 128. Input `[N, 28, 28]` → `[N, 128]`:
 * columns 0..63 are the means of z, 64..127 the log standard deviations.
 */
export function mnistLatentEncoder(): Encoder & { readonly spec: MnistLatentSpec } {
  const flat = CONV_SIZES[3]! * CONV_SIZES[3]! * 8;
  const paramSpecs = [
    ...convSpecs('conv0.', 1, 2),
    ...convSpecs('conv1.', 2, 4),
    ...convSpecs('conv2.', 4, 8),
    ...denseSpecs('fc0.', flat, 64),
    ...denseSpecs('out.', 64, 128),
  ];
  return {
    spec: { kind: 'mnist-latent' },
    paramSpecs,
    outputSize: 128,
    init: (rng) => initAll(rng, paramSpecs),
    apply(p: NamedTensors, x: tf.Tensor): tf.Tensor {
      if (x.rank !== 3 || x.shape[1] !== 28 || x.shape[2] !== 28) {
        throw new ShapeError('x', '[images, 28, 28]', x.shape);
      }
      const n = x.shape[0]!;
      return tf.tidy(() => {
        let h: tf.Tensor4D = tf.reshape(x, [n, 28, 28, 1]);
        h = conv(h, p, 'conv0.');
        h = conv(h, p, 'conv1.');
        h = conv(h, p, 'conv2.');
        const z = affine(tf.reshape(h, [n, flat]), p, 'fc0.', 'relu');
        return affine(z, p, 'out.');
      });
    },
  };
}

export interface GeneratorSpec extends EncoderSpec {
  readonly kind: 'generator-mlp';
}

/**
 * E3's generator G: 64 → 256 → ReLU → 256 → ReLU → 784 → tanh, with biases. Parameter names and
 * layout are PyTorch's `nn.Sequential` state dict: `0.weight` `[256, 64]`, `0.bias` `[256]`,
 * `2.weight` `[256, 256]`, `2.bias`, `4.weight` `[784, 256]`, `4.bias` `[784]` (weights
 * `[out, in]`, y = x Wᵀ + b), so a PyTorch state dict loads 1:1. Input `[N, 64]` → `[N, 784]` in
 * (−1, 1); the image is (G(z) + 1)/2 reshaped to 28×28 row-major.
 */
export function generatorMlp(): Encoder & { readonly spec: GeneratorSpec } {
  const layers = [
    { name: '0', din: 64, dout: 256 },
    { name: '2', din: 256, dout: 256 },
    { name: '4', din: 256, dout: 784 },
  ];
  const paramSpecs: ParamSpec[] = layers.flatMap((l) => [
    { name: `${l.name}.weight`, shape: [l.dout, l.din] },
    { name: `${l.name}.bias`, shape: [l.dout] },
  ]);
  return {
    spec: { kind: 'generator-mlp' },
    paramSpecs,
    outputSize: 784,
    init(rng: Rng): NamedTensors {
      const out: NamedTensors = {};
      for (const l of layers) {
        out[`${l.name}.weight`] = torchDefaultUniform(rng.split(`${l.name}.weight`), [l.dout, l.din], l.din);
        out[`${l.name}.bias`] = torchDefaultUniform(rng.split(`${l.name}.bias`), [l.dout], l.din);
      }
      return out;
    },
    apply(p: NamedTensors, x: tf.Tensor): tf.Tensor {
      if (x.rank !== 2 || x.shape[1] !== 64) throw new ShapeError('x', '[N, 64]', x.shape);
      return tf.tidy(() => {
        let h: tf.Tensor = x;
        if (fused()) {
          layers.forEach((l, i) => {
            const activation = i < layers.length - 1 ? 'relu' : 'tanh';
            h = denseLayer(h, p[`${l.name}.weight`]!, p[`${l.name}.bias`]!, { activation, transposeW: true });
          });
          return h;
        }
        layers.forEach((l, i) => {
          const y = tf.add(
            tf.matMul(h as tf.Tensor2D, p[`${l.name}.weight`] as tf.Tensor2D, false, true),
            p[`${l.name}.bias`]!,
          );
          h = i < layers.length - 1 ? tf.relu(y) : tf.tanh(y);
        });
        return h;
      });
    },
  };
}
