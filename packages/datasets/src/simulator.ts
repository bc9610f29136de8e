import { ConfigError, checkPositiveInt, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The one simulator contract of gcvi (bayesflow's `Simulator.sample`): `sample(n, rng)` returns `n`
 * joint draws as named tensors whose leading dimension is `n`. The caller owns (disposes) them.
 * All randomness comes from `rng`, so the same stream position gives the same draws.
 *
 * A simulator whose draws hold `theta` and `x` is what the objectives' `Problem.simulate` needs:
 * `simulate: (n, rng) => sim.sample(n, rng)`.
 */
export type Draws = Record<string, tf.Tensor>;

/** Named tensors: any object type whose every field is a tensor (interfaces included). */
export type NamedDraws<T> = { readonly [K in keyof T]: tf.Tensor };

export interface Simulator<T extends NamedDraws<T> = Draws> {
  /** `n` joint draws, every tensor with leading dimension `n`. */
  sample(n: number, rng: Rng): T;
}

/** Options of `makeSimulator`. */
export interface MakeSimulatorOptions {
  /**
   * `true` (default): `fn(n, rng)` returns all `n` draws at once. `false`: `fn(rng)` returns one
   * draw (tensors or numbers, without the leading dimension) and is called `n` times; the results
   * are stacked along a new leading axis (bayesflow's `is_batched=False`).
   */
  readonly batched?: boolean;
}

/** One draw of an unbatched simulator function: tensors or plain numbers. */
export type SingleDraw = Record<string, tf.Tensor | number>;

/**
 * Check a simulator's output: an object of tensors, each with leading dimension `n`. Errors name
 * the output key. Returns the output unchanged.
 */
export function checkDraws<T extends NamedDraws<T>>(out: T, n: number, who = 'simulator'): T {
  if (out === null || typeof out !== 'object') {
    throw new ConfigError(`${who}.sample()`, `must return an object of named tensors, got ${String(out)}`);
  }
  for (const [k, t] of Object.entries(out as Record<string, unknown>)) {
    if (!(t instanceof tf.Tensor)) {
      throw new ConfigError(`${who}.sample().${k}`, `must be a tensor [${n}, ...], got ${typeof t}`);
    }
    if (t.rank === 0 || t.shape[0] !== n) {
      throw new ShapeError(`${who}.sample().${k}`, `[${n}, ...] (leading dimension = n)`, t.shape);
    }
  }
  return out;
}

function stackDraws(draws: SingleDraw[]): Draws {
  const first = draws[0] as SingleDraw;
  const out: Draws = {};
  for (const k of Object.keys(first)) {
    const vals = draws.map((d, i) => {
      const v = d[k];
      if (v === undefined) throw new ConfigError(`simulator draw ${i}.${k}`, 'missing (draw 0 has it)');
      return v;
    });
    out[k] = tf.tidy(() => tf.stack(vals.map((v) => (typeof v === 'number' ? tf.scalar(v) : v))));
  }
  return out;
}

/**
 * Wrap a plain function into a `Simulator` (bayesflow's `make_simulator`/`LambdaSimulator`).
 * Batched: `makeSimulator((n, rng) => ({ theta, x }))`. Unbatched:
 * `makeSimulator((rng) => ({ theta: rng.normal(), x: … }), { batched: false })`.
 * The output is checked (named tensors with leading dimension `n`).
 */
export function makeSimulator<T extends NamedDraws<T>>(fn: (n: number, rng: Rng) => T): Simulator<T>;
export function makeSimulator(
  fn: (rng: Rng) => SingleDraw,
  options: MakeSimulatorOptions & { readonly batched: false },
): Simulator<Draws>;
export function makeSimulator(
  fn: ((n: number, rng: Rng) => Draws) | ((rng: Rng) => SingleDraw),
  options: MakeSimulatorOptions = {},
): Simulator<Draws> {
  if (typeof fn !== 'function')
    throw new ConfigError('makeSimulator(fn)', `must be a function, got ${typeof fn}`);
  if (options.batched === false) {
    const one = fn as (rng: Rng) => SingleDraw;
    return {
      sample(n, rng) {
        checkPositiveInt('n', n);
        const draws: SingleDraw[] = [];
        try {
          for (let i = 0; i < n; i++) draws.push(one(rng));
          return checkDraws(stackDraws(draws), n);
        } finally {
          for (const d of draws) for (const v of Object.values(d)) if (v instanceof tf.Tensor) v.dispose();
        }
      },
    };
  }
  const many = fn as (n: number, rng: Rng) => Draws;
  return {
    sample(n, rng) {
      checkPositiveInt('n', n);
      const out = many(n, rng);
      try {
        return checkDraws(out, n);
      } catch (e) {
        if (out && typeof out === 'object')
          tf.dispose(Object.values(out).filter((v) => v instanceof tf.Tensor));
        throw e;
      }
    },
  };
}
