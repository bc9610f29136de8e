/**
 * Objective plugins named on the command line (`--plugin <package>`): imported only when named,
 * by package name, resolved from this app; their objectives join the default registry of
 * `@gcvi/objectives`, where experiment configs find them by name. Every process that executes runs
 * (the CLI, each worker) loads the same list before its first run.
 */

import { listObjectives, loadObjectivePlugins } from '@gcvi/objectives';
import { ConfigError } from '@gcvi/runtime';
import { appRoot } from './versions.js';

const loaded = new Set<string>();

/** Load each not-yet-loaded package once; returns the objective names now registered. */
export async function loadPlugins(packages: readonly string[] = []): Promise<string[]> {
  const todo = packages.filter((p) => !loaded.has(p));
  if (todo.length > 0) {
    await loadObjectivePlugins(todo, undefined, { resolveFrom: appRoot() });
    for (const p of todo) loaded.add(p);
  }
  return listObjectives();
}

/** `name` must be a registered objective (after the plugins are loaded); `field` is what named it. */
export function checkObjectiveName(name: string, field: string): void {
  const known = listObjectives();
  if (!known.includes(name)) {
    throw new ConfigError(
      field,
      `unknown objective '${name}'; registered: ${known.join(', ')} (a plugin's objectives need --plugin <package>)`,
    );
  }
}
