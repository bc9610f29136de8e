/**
 * The error objective helpers throw. It carries the same `code` and `field` as `@gcvi/runtime`'s
 * typed errors (`E_CONFIG` for a bad option or a missing problem capability, `E_SHAPE` for tensors
 * of the wrong shape), and its message starts with the field, so a CLI can print it alone.
 */
export class ObjectiveError extends Error {
  readonly code: 'E_CONFIG' | 'E_SHAPE';
  /** Dotted path of what is wrong, e.g. `renyi.options.K` or `problem.logJoint`. */
  readonly field: string;
  constructor(code: 'E_CONFIG' | 'E_SHAPE', field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ObjectiveError';
    this.code = code;
    this.field = field;
  }
}

/** An `E_CONFIG` error for `field`. */
export function configError(field: string, message: string): ObjectiveError {
  return new ObjectiveError('E_CONFIG', field, message);
}

/** An `E_SHAPE` error: `field` should have shape `expected` but has `actual`. */
export function shapeError(field: string, expected: string, actual: readonly number[]): ObjectiveError {
  return new ObjectiveError('E_SHAPE', field, `expected shape ${expected}, got [${actual.join(', ')}]`);
}
