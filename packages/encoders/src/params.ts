import { ConfigError, ShapeError } from '@gcvi/runtime';
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
