import type * as tf from '@tensorflow/tfjs-core';
import { fusedAdamKernelConfigs } from './adam.js';
import { fusedAttentionGradConfig, fusedAttentionKernelConfigs } from './attention.js';
import { conv2dBackpropFilterGradConfig } from './conv2d_backprop_filter_grad.js';
import {
  denseActivationGradGradConfig,
  denseLayerGradConfig,
  denseLayerKernelConfigs,
} from './dense_layer.js';
import {
  fusedNtkDenseGradConfig,
  fusedNtkDenseGradGradConfig,
  fusedNtkDenseKernelConfigs,
} from './fused_dense.js';
import { im2colGradConfigs, im2colKernelConfigs } from './im2col.js';
import { matMulGradConfig, matMulKernelConfigs } from './matmul.js';
import { registerConfigs } from './registry.js';
import { rotateBilinearGradConfig, rotateBilinearKernelConfigs } from './rotate_bilinear.js';
import { rotatedNormalLogLikGradConfig, rotatedNormalLogLikKernelConfigs } from './rotated_normal_loglik.js';
import { rqSplineGradConfig, rqSplineKernelConfigs } from './rq_spline.js';
import { vonMisesNllGradConfig, vonMisesNllKernelConfigs } from './von_mises_nll.js';

/** Every kernel of @gcvi/kernels (one config per kernel name and backend). */
export const KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  ...fusedNtkDenseKernelConfigs,
  ...vonMisesNllKernelConfigs,
  ...fusedAdamKernelConfigs,
  ...fusedAttentionKernelConfigs,
  ...matMulKernelConfigs,
  ...denseLayerKernelConfigs,
  ...im2colKernelConfigs,
  ...rotateBilinearKernelConfigs,
  ...rotatedNormalLogLikKernelConfigs,
  ...rqSplineKernelConfigs,
];

/** Every gradient @gcvi/kernels registers, including the one patch of a tfjs core kernel. */
export const GRADIENT_CONFIGS: readonly tf.GradConfig[] = [
  fusedNtkDenseGradConfig,
  fusedNtkDenseGradGradConfig,
  vonMisesNllGradConfig,
  fusedAttentionGradConfig,
  conv2dBackpropFilterGradConfig,
  matMulGradConfig,
  denseLayerGradConfig,
  denseActivationGradGradConfig,
  ...im2colGradConfigs,
  rotateBilinearGradConfig,
  rotatedNormalLogLikGradConfig,
  rqSplineGradConfig,
];

/**
 * Register everything above (runs once when the package is imported; calling it again is a no-op
 * because the configs are the same objects). Throws `KernelRegistrationError` if another
 * implementation holds one of the names.
 */
export function registerAllKernels(): void {
  registerConfigs(KERNEL_CONFIGS, GRADIENT_CONFIGS);
}
