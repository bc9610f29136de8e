import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2DBackpropFilter,
  FUSED_BACKENDS,
  FusedNtkDense,
  FusedNtkDenseGrad,
  GRADIENT_CONFIGS,
  KERNEL_CONFIGS,
  KernelRegistrationError,
  registerAllKernels,
  registerGradientConfig,
  registerKernelConfig,
  VonMisesNll,
} from '../src/index.js';

describe('kernel and gradient registration', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('registers every config of the list on import: each kernel for every fused backend, each gradient', () => {
    for (const c of KERNEL_CONFIGS) expect(tf.getKernel(c.kernelName, c.backendName)).toBe(c);
    for (const g of GRADIENT_CONFIGS) expect(tf.getGradient(g.kernelName)).toBe(g);
    const names = new Set(KERNEL_CONFIGS.map((c) => c.kernelName));
    for (const n of names) {
      for (const b of FUSED_BACKENDS)
        expect(KERNEL_CONFIGS.filter((c) => c.kernelName === n && c.backendName === b)).toHaveLength(1);
    }
    // The second-order gradient of the fused dense layer and the tfjs core patch live here.
    expect(GRADIENT_CONFIGS.map((g) => g.kernelName)).toEqual(
      expect.arrayContaining([FusedNtkDense, FusedNtkDenseGrad, VonMisesNll, Conv2DBackpropFilter]),
    );
  });

  it('registering the same config objects again is a no-op', () => {
    expect(() => registerAllKernels()).not.toThrow();
    expect(() => registerKernelConfig(KERNEL_CONFIGS[0]!)).not.toThrow();
    expect(() => registerGradientConfig(GRADIENT_CONFIGS[0]!)).not.toThrow();
    expect(tf.getKernel(KERNEL_CONFIGS[0]!.kernelName, KERNEL_CONFIGS[0]!.backendName)).toBe(
      KERNEL_CONFIGS[0],
    );
  });

  it('a different kernel under a taken name throws a clear error and leaves the registered one', () => {
    const mine = KERNEL_CONFIGS.find((c) => c.kernelName === FusedNtkDense && c.backendName === 'cpu')!;
    const other: tf.KernelConfig = { ...mine, kernelFunc: mine.kernelFunc.bind(null) };
    expect(() => registerKernelConfig(other)).toThrow(KernelRegistrationError);
    expect(() => registerKernelConfig(other)).toThrow(
      /kernel 'GcviFusedNtkDense': already registered for backend 'cpu' with a different implementation/,
    );
    expect(tf.getKernel(FusedNtkDense, 'cpu')).toBe(mine);
  });

  it('a different gradient for a kernel that has one throws, for ours and for tfjs core ones', () => {
    const mine = GRADIENT_CONFIGS.find((g) => g.kernelName === FusedNtkDenseGrad)!;
    expect(() => registerGradientConfig({ ...mine })).toThrow(
      /kernel 'GcviFusedNtkDenseGrad': a gradient is already registered with a different implementation/,
    );
    expect(tf.getGradient(FusedNtkDenseGrad)).toBe(mine);
    const core = tf.getGradient('BatchMatMul');
    expect(core).toBeDefined();
    expect(() => registerGradientConfig({ kernelName: 'BatchMatMul', gradFunc: core.gradFunc })).toThrow(
      KernelRegistrationError,
    );
    expect(tf.getGradient('BatchMatMul')).toBe(core);
  });

  it('a new name registers once, then only the same object is accepted', () => {
    const config: tf.KernelConfig = {
      kernelName: 'GcviTestOnlyKernel',
      backendName: 'cpu',
      kernelFunc: () => ({ dataId: {}, shape: [], dtype: 'float32' }),
    };
    registerKernelConfig(config);
    expect(tf.getKernel('GcviTestOnlyKernel', 'cpu')).toBe(config);
    expect(() => registerKernelConfig(config)).not.toThrow();
    expect(() => registerKernelConfig({ ...config })).toThrow(KernelRegistrationError);
    tf.unregisterKernel('GcviTestOnlyKernel', 'cpu');
  });
});
