import { ConfigError } from '@gcvi/runtime';
import { nsfFamily } from './flow.js';
import { gaussianDiag, gaussianFull } from './gaussian.js';
import { gaussianMixture } from './mixture.js';
import { productFamily } from './product.js';
import type { Family, FamilySpec } from './types.js';
import { vonMisesFamily } from './von-mises.js';

/** Rebuilds a family from its spec; `familyFromSpec` is passed for nested specs (products). */
export type FamilyBuilder = (spec: FamilySpec, fromSpec: (s: FamilySpec) => Family) => Family;

/* biome-ignore lint/suspicious/noExplicitAny: specs are JSON; each family validates its own fields */
type AnySpec = any;

const builders = new Map<string, FamilyBuilder>([
  ['gaussian-diag', (s: AnySpec) => gaussianDiag({ dim: s.dim, minPrecision: s.minPrecision })],
  ['gaussian-full', (s: AnySpec) => gaussianFull({ dim: s.dim, minDiagonal: s.minDiagonal })],
  ['von-mises', (s: AnySpec) => vonMisesFamily({ dim: s.dim })],
  [
    'gaussian-mixture',
    (s: AnySpec) => gaussianMixture({ dim: s.dim, components: s.components, minScale: s.minScale }),
  ],
  // Posteriors saved before the `lu` option existed hold flows without LU layers.
  ['nsf', (s: AnySpec) => nsfFamily({ ...s, lu: s.lu ?? false })],
  [
    'product',
    (s: AnySpec, from) => {
      if (!Array.isArray(s.factors))
        throw new ConfigError('spec.factors', 'must be an array of family specs');
      return productFamily((s.factors as FamilySpec[]).map(from));
    },
  ],
]);

/**
 * Make a family kind known to `familyFromSpec` (and so to `loadPosterior`), e.g. a conditional
 * normalizing flow from another package. Registering a kind twice with a different builder is an
 * error; registering the same builder again is a no-op.
 */
export function registerFamily(kind: string, builder: FamilyBuilder): void {
  if (typeof kind !== 'string' || kind.length === 0)
    throw new ConfigError('kind', 'must be a non-empty string');
  if (typeof builder !== 'function') throw new ConfigError('builder', 'must be a function (spec) => Family');
  const have = builders.get(kind);
  if (have !== undefined && have !== builder) {
    throw new ConfigError('kind', `family kind '${kind}' is already registered with another builder`);
  }
  builders.set(kind, builder);
}

/** Family kinds `familyFromSpec` can rebuild. */
export function familyKinds(): string[] {
  return [...builders.keys()];
}

/** Rebuild a family from its JSON spec (`family.spec`). */
export function familyFromSpec(spec: FamilySpec): Family {
  if (spec === null || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new ConfigError('family.kind', 'a family spec is an object with a string `kind`');
  }
  const b = builders.get(spec.kind);
  if (b === undefined) {
    throw new ConfigError(
      'family.kind',
      `unknown family kind '${spec.kind}'; known: ${familyKinds().join(', ')} (register others with registerFamily)`,
    );
  }
  return b(spec, familyFromSpec);
}
