import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensors, ParamSpec } from './types.js';

/** Number of scalars in a parameter list. */
export function numParams(specs: readonly ParamSpec[]): number {
  let n = 0;
  for (const s of specs) n += s.shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Check that `params` holds exactly the tensors `specs` names, with the right shapes and float32
 * dtype. Throws `ConfigError` (missing/extra name) or `ShapeError` naming `argument.name`.
 */
export function checkParams(argument: string, params: NamedTensors, specs: readonly ParamSpec[]): void {
  if (params === null || typeof params !== 'object') {
    throw new ConfigError(argument, 'must be an object of named tensors');
  }
  for (const s of specs) {
    const t = params[s.name];
    if (t === undefined) {
      throw new ConfigError(
        `${argument}.${s.name}`,
        `missing parameter (expected shape [${s.shape.join(', ')}])`,
      );
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new ShapeError(`${argument}.${s.name}`, `[${s.shape.join(', ')}]`, t.shape);
    }
    if (t.dtype !== 'float32') {
      throw new ConfigError(`${argument}.${s.name}`, `must be float32, got ${t.dtype}`);
    }
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(params)) {
    if (!known.has(name)) {
      throw new ConfigError(
        `${argument}.${name}`,
        `unexpected parameter; this encoder has ${specs.map((s) => s.name).join(', ')}`,
      );
    }
  }
}

/**
 * Turn parameters (e.g. from `encoder.init(rng)`) into trainable `tf.Variable`s with the same
 * names, as `fit` and tfjs optimizers want them. The variables share the tensors' data, so the
 * given tensors can be disposed afterwards (pass `disposeInputs: true` to do it here). Free the
 * variables with `tf.dispose(Object.values(vars))`.
 */
export function toVariables(
  params: NamedTensors,
  options: { trainable?: boolean; namePrefix?: string; disposeInputs?: boolean } = {},
): Record<string, tf.Variable> {
  if (params === null || typeof params !== 'object') {
    throw new ConfigError('params', 'must be an object of named tensors');
  }
  const out: Record<string, tf.Variable> = {};
  for (const [name, t] of Object.entries(params)) {
    if (!(t instanceof tf.Tensor)) throw new ConfigError(`params.${name}`, 'must be a tf.Tensor');
    const varName = options.namePrefix === undefined ? undefined : `${options.namePrefix}${name}`;
    out[name] = tf.variable(t, options.trainable ?? true, varName);
  }
  if (options.disposeInputs) tf.dispose(Object.values(params));
  return out;
}

/** `toVariables(encoder.init(rng))`, disposing the init tensors: fresh trainable parameters. */
export function initVariables(
  encoder: { init(rng: Rng): NamedTensors },
  rng: Rng,
  options: { trainable?: boolean; namePrefix?: string } = {},
): Record<string, tf.Variable> {
  return toVariables(encoder.init(rng), { ...options, disposeInputs: true });
}
