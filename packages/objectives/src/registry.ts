import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyObjective, ObjectivePluginModule, Requirement } from '@gcvi/objective-contract';
import { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
import { ConfigError } from '@gcvi/runtime';

const REQUIREMENTS: readonly Requirement[] = ['simulator', 'observed', 'logJoint', 'rsample'];
const NAME_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A set of objectives by name. Registering a name twice is an error; so is asking for an unknown one. */
export interface ObjectiveRegistry {
  /** Add an objective (validated against the contract). Returns it. */
  register<T extends AnyObjective>(objective: T): T;
  /** The objective registered as `name`; throws a ConfigError listing the known names otherwise. */
  get(name: string): AnyObjective;
  /** Registered names, sorted. */
  list(): string[];
  has(name: string): boolean;
}

/**
 * Check that a value is an objective this version of gcvi can run: a kebab-case `name`, the
 * current `contractVersion`, known `requires`, and the functions of the contract. `where` names the
 * value in error messages (e.g. the plugin package it came from).
 */
export function validateObjective(value: unknown, where = 'objective'): AnyObjective {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError(
      where,
      `expected an objective object, got ${value === null ? 'null' : typeof value}`,
    );
  }
  const o = value as Record<string, unknown>;
  const label = typeof o.name === 'string' ? `${where} '${o.name}'` : where;
  if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) {
    throw new ConfigError(
      `${where}.name`,
      `must be a kebab-case string such as 'forward-kl', got ${JSON.stringify(o.name)}`,
    );
  }
  if (o.contractVersion !== OBJECTIVE_CONTRACT_VERSION) {
    throw new ConfigError(
      `${label}.contractVersion`,
      `written for objective contract version ${String(o.contractVersion)}, but this registry runs version ${OBJECTIVE_CONTRACT_VERSION}`,
    );
  }
  if (!Array.isArray(o.requires) || o.requires.some((r) => !REQUIREMENTS.includes(r as Requirement))) {
    throw new ConfigError(
      `${label}.requires`,
      `must be an array of ${REQUIREMENTS.map((r) => `'${r}'`).join(', ')}; got ${JSON.stringify(o.requires)}`,
    );
  }
  if (typeof o.description !== 'string') {
    throw new ConfigError(`${label}.description`, 'must be a string');
  }
  for (const fn of ['parseOptions', 'sampleBatch', 'loss'] as const) {
    if (typeof o[fn] !== 'function') throw new ConfigError(`${label}.${fn}`, 'must be a function');
  }
  return value as AnyObjective;
}

/** A new, empty registry. */
export function createRegistry(initial: readonly AnyObjective[] = []): ObjectiveRegistry {
  const byName = new Map<string, AnyObjective>();
  const reg: ObjectiveRegistry = {
    register(objective) {
      const o = validateObjective(objective);
      if (byName.has(o.name)) {
        throw new ConfigError('objective.name', `an objective named '${o.name}' is already registered`);
      }
      byName.set(o.name, o);
      return objective;
    },
    get(name) {
      const o = byName.get(name);
      if (!o) {
        const known = [...byName.keys()].sort();
        throw new ConfigError(
          'objective',
          `unknown objective '${name}'; registered: ${known.length ? known.join(', ') : '(none)'}`,
        );
      }
      return o;
    },
    list: () => [...byName.keys()].sort(),
    has: (name) => byName.has(name),
  };
  for (const o of initial) reg.register(o);
  return reg;
}

export interface LoadPluginsOptions {
  /**
   * Directory to resolve package names from when this package cannot see them itself (pnpm's
   * strict layout: a plugin installed in the app, not next to @gcvi/objectives). Default
   * `process.cwd()`.
   */
  readonly resolveFrom?: string;
}

function isNotFound(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  return (
    (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') &&
    typeof err.message === 'string' &&
    err.message.includes(pkg)
  );
}

/** The entry file of `pkg` as seen from directory `from` (node_modules lookup, `exports['.']`). */
function resolveEntry(pkg: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const pkgDir = join(dir, 'node_modules', pkg);
    const pkgJson = join(pkgDir, 'package.json');
    if (existsSync(pkgJson)) {
      const meta = JSON.parse(readFileSync(pkgJson, 'utf8')) as {
        exports?: unknown;
        main?: string;
      };
      let rel: unknown = meta.exports;
      if (rel && typeof rel === 'object' && '.' in (rel as object))
        rel = (rel as Record<string, unknown>)['.'];
      while (rel && typeof rel === 'object') {
        const c = rel as Record<string, unknown>;
        rel = c.import ?? c.node ?? c.default;
      }
      return join(pkgDir, typeof rel === 'string' ? rel : (meta.main ?? 'index.js'));
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

async function importPlugin(pkg: string, from: string): Promise<unknown> {
  try {
    return await import(pkg);
  } catch (e) {
    if (!isNotFound(e, pkg)) throw e;
    const entry = resolveEntry(pkg, from);
    if (!entry) throw e;
    return await import(pathToFileURL(entry).href);
  }
}

/**
 * Import each package by name and register the objectives it exports (named export `objectives`,
 * an `ObjectivePluginModule`). A name is imported as seen from this package, then from
 * `options.resolveFrom` (default: the working directory). Errors name the package: not installed,
 * no `objectives` array, an invalid objective, or a name clash. Returns the names registered.
 */
export async function loadPluginsInto(
  packageNames: readonly string[],
  registry: ObjectiveRegistry,
  options: LoadPluginsOptions = {},
): Promise<string[]> {
  if (!Array.isArray(packageNames)) throw new ConfigError('plugins', 'must be an array of package names');
  const from = options.resolveFrom ?? process.cwd();
  const added: string[] = [];
  for (const pkg of packageNames) {
    if (typeof pkg !== 'string' || pkg.length === 0) {
      throw new ConfigError('plugins', `package names must be non-empty strings, got ${JSON.stringify(pkg)}`);
    }
    let mod: Partial<ObjectivePluginModule>;
    try {
      mod = (await importPlugin(pkg, from)) as Partial<ObjectivePluginModule>;
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new ConfigError(`plugins['${pkg}']`, `could not import the plugin package (${why})`, {
        cause: e,
      });
    }
    const list = mod.objectives;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ConfigError(
        `plugins['${pkg}']`,
        'the package must have a named export `objectives`: a non-empty array of objectives',
      );
    }
    list.forEach((o, i) => {
      validateObjective(o, `plugins['${pkg}'].objectives[${i}]`);
    });
    for (const o of list) {
      if (registry.has(o.name)) {
        throw new ConfigError(`plugins['${pkg}']`, `objective '${o.name}' is already registered`);
      }
    }
    for (const o of list) {
      registry.register(o);
      added.push(o.name);
    }
  }
  return added;
}
