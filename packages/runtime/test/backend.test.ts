import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, ConfigError, describeBackend, initBackend } from '../src/index.js';

describe('initBackend', () => {
  it('auto picks the first backend that loads and reports what it skipped', async () => {
    const info = await initBackend({ backend: 'auto', env: {} });
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    const order = ['tensorflow', 'wasm', 'cpu'];
    expect(info.skipped.map((s) => s.backend)).toEqual(order.slice(0, order.indexOf(info.name)));
    for (const s of info.skipped) expect(s.reason.length).toBeGreaterThan(0);
    expect(describeBackend(info)).toContain(`backend ${info.name}`);
  });

  it('an explicit backend is used, and the environment variable is read', async () => {
    const cpu = await initBackend({ backend: 'cpu' });
    expect(cpu.name).toBe('cpu');
    expect(cpu.source).toBe('option');
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend({ env: { GCVI_BACKEND: 'wasm' } });
    expect(wasm.name).toBe('wasm');
    expect(wasm.source).toBe('env');
    expect(tf.getBackend()).toBe('wasm');
    // gradients work on the chosen backend
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.relu(x)))(tf.tensor([2, -1]));
    expect(Array.from(g.dataSync())).toEqual([1, 0]);
  });

  it('a backend that cannot load is an error naming it and why, not a fallback', async () => {
    let tfjsNodeLoads = true;
    try {
      await initBackend({ backend: 'tensorflow' });
    } catch (e) {
      tfjsNodeLoads = false;
      expect(e).toBeInstanceOf(BackendError);
      expect((e as BackendError).backend).toBe('tensorflow');
      expect((e as Error).message).toMatch(/tensorflow.*tfjs-node/);
    }
    if (tfjsNodeLoads) expect(tf.getBackend()).toBe('tensorflow');
  });

  it('an unknown backend name is a config error naming the field', async () => {
    await expect(initBackend({ env: { GCVI_BACKEND: 'gpu' } })).rejects.toThrow(ConfigError);
    await expect(initBackend({ env: { GCVI_BACKEND: 'gpu' } })).rejects.toThrow(/GCVI_BACKEND.*gpu/);
    await expect(initBackend({ backend: 'nope' as never })).rejects.toThrow(/backend/);
  });
});
