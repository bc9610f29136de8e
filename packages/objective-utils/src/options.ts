import type { Problem, Requirement } from '@gcvi/objective-contract';
import { configError } from './errors.js';

/**
 * Option parsing for `Objective.parseOptions`. Every error names `<objective>.options.<key>`.
 * `raw` undefined or null means "all defaults" and gives `{}`.
 */
export function optionsObject(name: string, raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw configError(
      `${name}.options`,
      `must be an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`,
    );
  }
  return raw as Record<string, unknown>;
}

/** Unknown keys are errors: a misspelt option must not be silently ignored. */
export function rejectUnknown(name: string, raw: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) {
      throw configError(`${name}.options.${k}`, `unknown option; known: ${known.join(', ') || '(none)'}`);
    }
  }
}

/** A positive integer option (sample counts, batch sizes). */
export function positiveIntOption(name: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw configError(`${name}.options.${key}`, `must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A finite number option. */
export function finiteOption(name: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw configError(`${name}.options.${key}`, `must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** One of a list of strings. */
export function enumOption<T extends string>(
  name: string,
  key: string,
  v: unknown,
  allowed: readonly T[],
): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw configError(
      `${name}.options.${key}`,
      `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}

/** Does `problem` provide what `what` asks for? (`rsample` is a property of q, not of the problem.) */
export function provides(problem: Problem, what: Requirement): boolean {
  switch (what) {
    case 'simulator':
      return typeof problem.simulate === 'function';
    case 'observed':
      return problem.observed !== undefined;
    case 'logJoint':
      return typeof problem.logJoint === 'function';
    default:
      return true;
  }
}

/** Throw an error naming the missing field when `problem` lacks what objective `name` requires. */
export function need(name: string, problem: Problem, what: Requirement): void {
  if (provides(problem, what)) return;
  const field = what === 'simulator' ? 'simulate' : what;
  throw configError(`problem.${field}`, `objective '${name}' requires the problem to provide '${field}'`);
}
