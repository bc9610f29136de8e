import { ConfigError, createRng } from '@gcvi/runtime';

/** Options of `nsf`. */
export interface NsfOptions {
  /** Dimension of θ (≥ 1). */
  readonly dim: number;
  /** Dimension of the context (the embedding of x); 0 for an unconditional flow. */
  readonly contextDim: number;
  /** Number of coupling layers (default 5, sbi's default). */
  readonly layers?: number;
  /** Spline bins K per transformed coordinate (default 10, sbi's default). */
  readonly bins?: number;
  /** Width of each hidden layer of the conditioner networks (default 50, sbi's default). */
  readonly hidden?: number;
  /** Hidden layers per conditioner network (default 2). */
  readonly depth?: number;
  /** Conditioner activation (default 'relu'). */
  readonly activation?: 'relu' | 'tanh';
  /** The splines act on [−bound, bound]; identity outside (default 3, sbi's tail bound). */
  readonly bound?: number;
  /**
   * A box prior's support: θ is mapped to R^dim by a per-coordinate logit before the flow, so the
   * density is zero outside the box and every sample lies inside it.
   */
  readonly box?: { readonly low: readonly number[]; readonly high: readonly number[] } | null;
  /**
   * Fixed affine standardization applied to θ (after the logit when `box` is set) before the
   * flow: (u − mean) / std. Not trained. Default: none.
   */
  readonly standardize?: { readonly mean: readonly number[]; readonly std: readonly number[] } | null;
  /** Scale of the conditioners' last-layer initial weights (default 0.01: the flow starts near N(0, I)). */
  readonly initScale?: number;
  /** Seed of the fixed permutations between layers (default 0). */
  readonly permutationSeed?: number;
  /**
   * A trainable invertible linear map z = W v + b after each coupling layer, W = L·U with L unit
   * lower triangular and U upper triangular with a positive diagonal, starting at the identity
   * (sbi's NSF: `LULinear(identity_init=True)` after every coupling layer). Only for dim ≥ 2.
   * Default true; flows saved before this option existed load with false.
   */
  readonly lu?: boolean;
}

/**
 * Resolved options, plus the permutations: everything needed to rebuild the flow (JSON-safe);
 * `nsf(spec)` builds the same flow again.
 */
export interface NsfSpec {
  readonly kind: 'nsf';
  readonly dim: number;
  readonly contextDim: number;
  readonly layers: number;
  readonly bins: number;
  readonly hidden: number;
  readonly depth: number;
  readonly activation: 'relu' | 'tanh';
  readonly bound: number;
  readonly box: { readonly low: readonly number[]; readonly high: readonly number[] } | null;
  readonly standardize: { readonly mean: readonly number[]; readonly std: readonly number[] } | null;
  readonly initScale: number;
  readonly permutationSeed: number;
  /** `permutations[i]` reorders the coordinates before layer i (positions of the previous order). */
  readonly permutations: readonly (readonly number[])[];
  /** Whether each coupling layer is followed by a trainable LU-parameterized linear map (dim ≥ 2). */
  readonly lu: boolean;
}

function positiveInt(field: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ConfigError(field, `must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

function finiteVector(field: string, v: unknown, dim: number): number[] {
  if (!Array.isArray(v) || v.length !== dim) {
    throw new ConfigError(field, `must be an array of ${dim} numbers`);
  }
  v.forEach((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) {
      throw new ConfigError(`${field}[${i}]`, `must be a finite number, got ${String(e)}`);
    }
  });
  return [...v] as number[];
}

/**
 * Permutations between layers. dim 1: none. dim 2: swap the two coordinates before every layer
 * after the first. dim ≥ 3: seeded random permutations, redrawn when the untouched half of the next
 * layer would be the same set of coordinates as that of the previous layer.
 */
function permutations(dim: number, layers: number, seed: number): number[][] {
  const ident = Array.from({ length: dim }, (_, i) => i);
  const out: number[][] = [ident];
  if (dim === 1) {
    for (let i = 1; i < layers; i++) out.push([0]);
    return out;
  }
  if (dim === 2) {
    for (let i = 1; i < layers; i++) out.push([1, 0]);
    return out;
  }
  const rng = createRng(seed).split('nsf-permutations');
  const half = Math.floor(dim / 2);
  let order = ident;
  for (let i = 1; i < layers; i++) {
    const before = new Set(order.slice(0, half));
    let perm: number[] = [];
    for (let tries = 0; tries < 1000; tries++) {
      perm = Array.from(rng.permutation(dim));
      const next = perm.map((p) => order[p] as number);
      if (!next.slice(0, half).every((c) => before.has(c))) break;
    }
    order = perm.map((p) => order[p] as number);
    out.push(perm);
  }
  return out;
}

export function resolveOptions(o: NsfOptions): NsfSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('options', 'must be an object');
  const dim = positiveInt('dim', o.dim);
  const contextDim = positiveInt('contextDim', o.contextDim, 0);
  const layers = positiveInt('layers', o.layers ?? 5);
  const bins = positiveInt('bins', o.bins ?? 10, 2);
  const hidden = positiveInt('hidden', o.hidden ?? 50);
  const depth = positiveInt('depth', o.depth ?? 2, 0);
  const activation = o.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'tanh') {
    throw new ConfigError('activation', `must be 'relu' or 'tanh', got ${String(activation)}`);
  }
  const bound = o.bound ?? 3;
  if (typeof bound !== 'number' || !(bound > 0) || !Number.isFinite(bound)) {
    throw new ConfigError('bound', `must be a finite number > 0, got ${String(bound)}`);
  }
  let box: NsfSpec['box'] = null;
  if (o.box !== undefined && o.box !== null) {
    const low = finiteVector('box.low', o.box.low, dim);
    const high = finiteVector('box.high', o.box.high, dim);
    high.forEach((h, i) => {
      if (!(h > (low[i] as number))) {
        throw new ConfigError(`box.high[${i}]`, `must exceed box.low[${i}] = ${low[i]}, got ${h}`);
      }
    });
    box = { low, high };
  }
  let standardize: NsfSpec['standardize'] = null;
  if (o.standardize !== undefined && o.standardize !== null) {
    const mean = finiteVector('standardize.mean', o.standardize.mean, dim);
    const std = finiteVector('standardize.std', o.standardize.std, dim);
    std.forEach((s, i) => {
      if (!(s > 0)) throw new ConfigError(`standardize.std[${i}]`, `must be > 0, got ${s}`);
    });
    standardize = { mean, std };
  }
  const initScale = o.initScale ?? 0.01;
  if (typeof initScale !== 'number' || !(initScale >= 0) || !Number.isFinite(initScale)) {
    throw new ConfigError('initScale', `must be a finite number ≥ 0, got ${String(initScale)}`);
  }
  const permutationSeed = o.permutationSeed ?? 0;
  if (!Number.isSafeInteger(permutationSeed)) {
    throw new ConfigError('permutationSeed', `must be a safe integer, got ${String(permutationSeed)}`);
  }
  const lu = o.lu ?? true;
  if (typeof lu !== 'boolean') throw new ConfigError('lu', `must be true or false, got ${String(lu)}`);
  return {
    kind: 'nsf',
    dim,
    contextDim,
    layers,
    bins,
    hidden,
    depth,
    activation,
    bound,
    box,
    standardize,
    initScale,
    permutationSeed,
    permutations: permutations(dim, layers, permutationSeed),
    lu: lu && dim >= 2,
  };
}
