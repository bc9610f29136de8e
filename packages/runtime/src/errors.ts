/**
 * Typed errors shared by every gcvi package. Each names the thing that is wrong (a config field, a
 * function argument, a file, a backend) so that the message alone says what to fix.
 */
export class GcviError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration value is missing, of the wrong type, or out of range. `field` is its dotted path. */
export class ConfigError extends GcviError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('E_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** A tensor argument has the wrong rank or size. */
export class ShapeError extends GcviError {
  readonly argument: string;
  readonly expected: string;
  readonly actual: readonly number[];
  constructor(argument: string, expected: string, actual: readonly number[]) {
    super('E_SHAPE', `${argument}: expected shape ${expected}, got [${actual.join(', ')}]`);
    this.argument = argument;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A value is NaN, infinite, or outside the domain where the computation is defined. */
export class NumericalError extends GcviError {
  readonly argument: string;
  constructor(argument: string, message: string, options?: { cause?: unknown }) {
    super('E_NUMERICAL', `${argument}: ${message}`, options);
    this.argument = argument;
  }
}

/** A requested tfjs backend could not be loaded or initialised. */
export class BackendError extends GcviError {
  readonly backend: string;
  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super('E_BACKEND', `backend '${backend}': ${message}`, options);
    this.backend = backend;
  }
}

/** A file is missing, truncated or not in the expected format. */
export class FileFormatError extends GcviError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('E_FILE', `${file}: ${message}`, options);
    this.file = file;
  }
}
