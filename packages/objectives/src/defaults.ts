import type { AnyObjective } from '@gcvi/objective-contract';
import { elbo } from './builtins/elbo.js';
import { forwardKl } from './builtins/forward-kl.js';
import { iwbo } from './builtins/iwbo.js';
import {
  createRegistry,
  type LoadPluginsOptions,
  loadPluginsInto,
  type ObjectiveRegistry,
} from './registry.js';

/** The built-in objectives: `forward-kl`, `elbo`, `iwbo`. */
export const builtinObjectives: readonly AnyObjective[] = [forwardKl, elbo, iwbo];

/** The default registry, holding the built-ins; `fit` looks objective names up here by default. */
export const registry: ObjectiveRegistry = createRegistry(builtinObjectives);

/** Register an objective in the default registry. */
export function registerObjective<T extends AnyObjective>(objective: T): T {
  return registry.register(objective);
}

/** The objective registered as `name` in the default registry (error listing the known names otherwise). */
export function getObjective(name: string): AnyObjective {
  return registry.get(name);
}

/** Names in the default registry, sorted. */
export function listObjectives(): string[] {
  return registry.list();
}

/**
 * Import plugin packages by name and register their `objectives` export into `target` (default:
 * the default registry). Names are resolved from this package, then from `options.resolveFrom`
 * (default: the working directory). Returns the names added.
 */
export function loadObjectivePlugins(
  packageNames: readonly string[],
  target: ObjectiveRegistry = registry,
  options: LoadPluginsOptions = {},
): Promise<string[]> {
  return loadPluginsInto(packageNames, target, options);
}
