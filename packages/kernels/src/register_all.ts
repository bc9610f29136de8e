import type * as tf from '@tensorflow/tfjs-core';
import { fusedAdamKernelConfigs } from './adam.js';
import { fusedAttentionGradConfig, fusedAttentionKernelConfigs } from './attention.js';
import { conv2dBackpropFilterGradConfig } from './conv2d_backprop_filter_grad.js';
import {
  fusedNtkDenseGradConfig,
  fusedNtkDenseGradGradConfig,
  fusedNtkDenseKernelConfigs,
} from './fused_dense.js';
import { registerConfigs } from './registry.js';
import { vonMisesNllGradConfig, vonMisesNllKernelConfigs } from './von_mises_nll.js';

/** Every kernel of @gcvi/kernels (one config per kernel name and backend). */
export const KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  ...fusedNtkDenseKernelConfigs,
  ...vonMisesNllKernelConfigs,
  ...fusedAdamKernelConfigs,
  ...fusedAttentionKernelConfigs,
];

/** Every gradient @gcvi/kernels registers, including the one patch of a tfjs core kernel. */
export const GRADIENT_CONFIGS: readonly tf.GradConfig[] = [
  fusedNtkDenseGradConfig,
  fusedNtkDenseGradGradConfig,
  vonMisesNllGradConfig,
  fusedAttentionGradConfig,
  conv2dBackpropFilterGradConfig,
];

/**
 * Register everything above (runs once when the package is imported; calling it again is a no-op
 * because the configs are the same objects). Throws `KernelRegistrationError` if another
 * implementation holds one of the names.
 */
export function registerAllKernels(): void {
  registerConfigs(KERNEL_CONFIGS, GRADIENT_CONFIGS);
}
