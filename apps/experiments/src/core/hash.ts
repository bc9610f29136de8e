import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted at every level, no whitespace, `-0` written as `0`.
 * Non-finite numbers, functions, `undefined` values inside arrays and other non-JSON values are
 * rejected (they would hash differently from what `config.json` stores).
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: cannot hash the non-finite number ${value}`);
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${path}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`${path}: only plain objects can be hashed`);
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${encode(v, `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`${path}: cannot hash a value of type ${typeof value}`);
  }
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function hashConfig(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** Length of the hash prefix used as a run id (64 bits: collisions are not a practical concern). */
export const RUN_ID_LENGTH = 16;

/** Run id of an experiment's validated config: the first 16 hex digits of sha256(experiment + config). */
export function runId(experiment: string, config: unknown): string {
  return hashConfig({ experiment, config }).slice(0, RUN_ID_LENGTH);
}
