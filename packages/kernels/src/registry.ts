import { GcviError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Registration of kernels and gradients, as tfjs's own `kernel_registry.ts` does it: a kernel or a
 * gradient is a config value (`tf.KernelConfig`, `tf.GradConfig`) keyed by a named constant, and
 * every config of this package is registered from one list (`register_all.ts`).
 *
 * tfjs's `registerKernel` / `registerGradient` overwrite an existing entry with a warning; these
 * do not: registering the very same config object again is a no-op, and registering a
 * *different* config under a name (and backend) that is taken throws `KernelRegistrationError`.
 * Nothing is skipped silently.
 */

/** A kernel or gradient name is already registered with a different implementation. */
export class KernelRegistrationError extends GcviError {
  readonly kernelName: string;
  constructor(kernelName: string, message: string) {
    super('E_KERNEL_REGISTRATION', `kernel '${kernelName}': ${message}`);
    this.kernelName = kernelName;
  }
}

const HINT =
  'two different implementations cannot share one name. If this is @gcvi/kernels loaded twice in one ' +
  'process (e.g. once from src and once from dist, or two installed versions), load one copy only.';

/** Register one kernel config. Same object again: no-op; another config under the same key: throws. */
export function registerKernelConfig(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing === config) return;
  if (existing !== undefined) {
    throw new KernelRegistrationError(
      config.kernelName,
      `already registered for backend '${config.backendName}' with a different implementation; ${HINT}`,
    );
  }
  tf.registerKernel(config);
}

/** Register one gradient config. Same object again: no-op; another gradient for the kernel: throws. */
export function registerGradientConfig(config: tf.GradConfig): void {
  const existing = tf.getGradient(config.kernelName);
  if (existing === config) return;
  if (existing !== undefined) {
    throw new KernelRegistrationError(
      config.kernelName,
      `a gradient is already registered with a different implementation; ${HINT}`,
    );
  }
  tf.registerGradient(config);
}

/** Register a list of kernel and gradient configs (kernels first, so gradients can name them). */
export function registerConfigs(
  kernels: readonly tf.KernelConfig[],
  gradients: readonly tf.GradConfig[],
): void {
  for (const k of kernels) registerKernelConfig(k);
  for (const g of gradients) registerGradientConfig(g);
}
