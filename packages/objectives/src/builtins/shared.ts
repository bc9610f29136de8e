import type { Problem, RandomStream, Requirement } from '@gcvi/objective-contract';
import { ConfigError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/** Reject what is not a plain object (or undefined, which means "all defaults"). */
export function optionsObject(name: string, raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(
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
      throw new ConfigError(`${name}.options.${k}`, `unknown option; known: ${known.join(', ') || '(none)'}`);
    }
  }
}

export function positiveIntOption(name: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`${name}.options.${key}`, `must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The problem must provide what the objective's `requires` lists. */
export function need(objective: string, problem: Problem, what: Requirement): void {
  const ok =
    what === 'simulator'
      ? typeof problem.simulate === 'function'
      : what === 'observed'
        ? problem.observed !== undefined
        : what === 'logJoint'
          ? typeof problem.logJoint === 'function'
          : true;
  if (!ok) {
    const field = what === 'simulator' ? 'simulate' : what;
    throw new ConfigError(
      `problem.${field}`,
      `objective '${objective}' requires the problem to provide '${field}'`,
    );
  }
}

/**
 * A minibatch of `size` rows of `observed`, drawn without replacement (partial Fisher–Yates with
 * `rng.uniform()`). When `size` ≥ the number of rows, the whole data set (a clone that shares its
 * storage, so disposing it leaves `observed` intact).
 */
export function minibatch(observed: tf.Tensor, size: number, rng: RandomStream): tf.Tensor {
  const n = observed.shape[0] ?? 0;
  if (n === 0) throw new ConfigError('problem.observed', 'must have at least one row');
  if (size >= n) return tf.clone(observed);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng.uniform() * (n - i));
    const t = idx[i] as number;
    idx[i] = idx[j] as number;
    idx[j] = t;
  }
  return tf.tidy(() => tf.gather(observed, tf.tensor1d(idx.subarray(0, size), 'int32')));
}

/** `x` in the forward pass, zero gradient in the backward pass (tfjs has no stop_gradient op). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}

/** log( mean_k exp(w_k) ) along `axis`, computed stably. */
export function logMeanExp(w: tf.Tensor, axis = 0): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.logSumExp(w, axis), Math.log(w.shape[axis] as number)));
}

/**
 * `q(x).logProb(theta)` must hold one log-density per draw: shape `[n]`. Standard broadcasting
 * turns e.g. a von Mises of batch shape `[n]` evaluated at `theta` of shape `[n, 1]` into an
 * `[n, n]` table whose mean is a different (wrong) loss; refuse it, naming `theta` and the shapes.
 */
export function checkOnePerDraw(
  lp: tf.Tensor,
  theta: tf.Tensor,
  q: { readonly batchShape: readonly number[]; readonly eventShape: readonly number[] },
  n: number,
): void {
  if (lp.rank === 1 && lp.shape[0] === n) return;
  const want = [...(q.batchShape ?? []), ...(q.eventShape ?? [])];
  throw new ShapeError(
    'theta',
    `[${want.join(', ')}] (q(x) has batch shape [${(q.batchShape ?? []).join(', ')}] and event shape [${(q.eventShape ?? []).join(', ')}]; q(x).logProb(theta) must have shape [${n}], one value per draw, but has [${lp.shape.join(', ')}] after broadcasting)`,
    theta.shape,
  );
}

/**
 * Log-weights log p(z, x) − log q(z | x) must not broadcast: `problem.logJoint(z, x)` must have the
 * shape of `q(x).logProb(z)` (`[K, ...batchShape]`), one value per draw.
 */
export function checkSameShape(logJoint: tf.Tensor, logQ: tf.Tensor): void {
  if (logJoint.rank === logQ.rank && logJoint.shape.every((d, i) => d === logQ.shape[i])) return;
  throw new ShapeError(
    'problem.logJoint(z, x)',
    `[${logQ.shape.join(', ')}], the shape of q(x).logProb(z) (one value per draw z; no broadcasting)`,
    logJoint.shape,
  );
}
