/*
 * Matrix-multiply FLOPs of one training step of each bench row (2 per multiply–add): dense layers
 * and convolutions forward, their weight gradients, and their input gradients wherever a gradient
 * flows into the input. Element-wise work (activations, von Mises head, Adam, the bilinear rotation,
 * softmax) is left out, except in the rows whose main work is element-wise (E4 ELBO's K rotated
 * copies), where it is counted as stated. Divided by the machine's measured sgemm rate this is the
 * "floor": the time the step could take if all of it ran at sgemm speed.
 */

/** One layer as a matrix product per example: `macs` multiply–adds per example. */
interface Layer {
  readonly macs: number;
}

const dense = (din: number, dout: number): Layer => ({ macs: din * dout });
/** 3×3 stride 2 'valid' convolution from `size`² × cin to ((size − 3)/2 + 1)² × cout. */
const conv3s2 = (size: number, cin: number, cout: number): Layer => {
  const o = Math.floor((size - 3) / 2) + 1;
  return { macs: o * o * 9 * cin * cout };
};

export const ANGLE_ENCODER: readonly Layer[] = [
  conv3s2(28, 1, 4),
  conv3s2(13, 4, 16),
  conv3s2(6, 16, 64),
  dense(256, 512),
  dense(512, 512),
  dense(512, 512),
  dense(512, 2),
];
export const LATENT_ENCODER: readonly Layer[] = [
  conv3s2(28, 1, 2),
  conv3s2(13, 2, 4),
  conv3s2(6, 4, 8),
  dense(32, 64),
  dense(64, 128),
];
export const GENERATOR: readonly Layer[] = [dense(64, 256), dense(256, 256), dense(256, 784)];

const sum = (ls: readonly Layer[]) => ls.reduce((s, l) => s + l.macs, 0);

/** Forward FLOPs per example. */
export function forwardFlops(ls: readonly Layer[]): number {
  return 2 * sum(ls);
}

/**
 * Forward + backward FLOPs per example of a network trained on constant inputs: weight gradients
 * for every layer, input gradients for every layer but the first.
 */
export function trainFlops(ls: readonly Layer[]): number {
  return 2 * (3 * sum(ls) - (ls[0]?.macs ?? 0));
}

/** Forward + input-gradient FLOPs per example of a fixed network (no weight gradients). */
export function forwardInputGradFlops(ls: readonly Layer[]): number {
  return 4 * sum(ls);
}

/** Element-wise FLOPs per output pixel per angle of the bilinear rotation + Gaussian residual, fwd + bwd. */
export const ROTATE_RESIDUAL_FLOPS = 24;

export function e3LpFlops(images: number): number {
  return images * (forwardFlops(GENERATOR) + trainFlops(ANGLE_ENCODER));
}

export function e3IwboFlops(minibatch: number, particles: number): number {
  return minibatch * trainFlops(LATENT_ENCODER) + minibatch * particles * forwardInputGradFlops(GENERATOR);
}

export function e4LpFlops(images = 100): number {
  return images * trainFlops(ANGLE_ENCODER);
}

export function e4ElboFlops(particles: number, images = 100): number {
  return images * trainFlops(ANGLE_ENCODER) + particles * images * 784 * ROTATE_RESIDUAL_FLOPS;
}

/** E1: 16 × (2 → W → 2), both layers trained, no input gradient. */
export function e1Flops(width: number, batch = 16): number {
  return batch * trainFlops([dense(2, width), dense(width, 2)]) + 2 * batch * 2 * width;
}

/**
 * E2 one Set Transformer step pair (Z encoder with 5 seeds, S encoder with 1), n points, width w (64):
 * per MAB the Q, K, V, O projections and the attention products QKᵀ and AV (heads share the
 * width: n_q·n_k·w multiply–adds each); forward, then 2× for the backward (input and weight
 * gradients everywhere except the first projections' input x).
 */
export function e2Flops(n: number, particles = 0, w = 64): number {
  const mab = (nq: number, nk: number, dq: number, dk: number) =>
    nq * dq * w + 2 * nk * dk * w + nq * w * w + 2 * nq * nk * w;
  const encoder = (seeds: number) => mab(n, n, 1, 1) + mab(n, n, w, w) + mab(seeds, n, w, w) + seeds * w * 2;
  const macs = encoder(5) + encoder(1);
  // ELBO: K × n × 5 Gaussian log-densities + logsumexp, fwd + bwd (~20 flops each).
  return 2 * 3 * macs + particles * n * 5 * 20;
}
