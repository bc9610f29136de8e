import { i1OverI0, logI0 } from '@gcvi/kernels';
import { ConfigError, GcviError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { Categorical } from './categorical.js';
import { Independent } from './independent.js';
import { Normal } from './normal.js';
import type { Distribution } from './types.js';
import { Uniform } from './uniform.js';
import { detached, detachedCompare } from './util.js';
import { VonMises } from './von-mises.js';

// biome-ignore lint/suspicious/noExplicitAny: constructors of any distribution class.
type Ctor<T> = abstract new (...args: any[]) => T;
export type KLFn<P extends Distribution, Q extends Distribution> = (p: P, q: Q) => tf.Tensor;

const registry = new Map<Ctor<Distribution>, Map<Ctor<Distribution>, KLFn<Distribution, Distribution>>>();

/**
 * Register KL(p ‖ q) for a pair of classes (distrax style). Registering a pair twice is an error.
 */
export function registerKL<P extends Distribution, Q extends Distribution>(
  pClass: Ctor<P>,
  qClass: Ctor<Q>,
  fn: KLFn<P, Q>,
): void {
  let inner = registry.get(pClass);
  if (!inner) {
    inner = new Map();
    registry.set(pClass, inner);
  }
  if (inner.has(qClass)) {
    throw new ConfigError('registerKL', `KL(${pClass.name} ‖ ${qClass.name}) is already registered`);
  }
  inner.set(qClass, fn as KLFn<Distribution, Distribution>);
}

/** KL(p ‖ q) with the batch shape of the pair; throws if no rule is registered for the classes. */
export function kl(p: Distribution, q: Distribution): tf.Tensor {
  const fn = registry.get(p.constructor as Ctor<Distribution>)?.get(q.constructor as Ctor<Distribution>);
  if (!fn) {
    throw new GcviError(
      'E_NOT_DEFINED',
      `no KL registered for (${p.constructor.name}, ${q.constructor.name})`,
    );
  }
  return tf.tidy(() => fn(p, q));
}

registerKL(Normal, Normal, (p, q) => {
  const vr = tf.square(tf.div(p.scale, q.scale));
  const t = tf.square(tf.div(tf.sub(p.loc, q.loc), q.scale));
  return tf.mul(0.5, tf.sub(tf.add(vr, t), tf.add(1, tf.log(vr))));
});

registerKL(VonMises, VonMises, (p, q) => {
  // log I0(κq) − log I0(κp) + A(κp)(κp − κq cos(μp − μq))
  const kp = p.concentration;
  const kq = q.concentration;
  const a = i1OverI0(kp);
  return tf.add(
    tf.sub(logI0(kq), logI0(kp)),
    tf.mul(a, tf.sub(kp, tf.mul(kq, tf.cos(tf.sub(p.loc, q.loc))))),
  );
});

registerKL(Uniform, Uniform, (p, q) => {
  const inside = detached(
    (pl, ql, ph, qh) =>
      tf.logicalAnd(tf.greaterEqual(pl, ql as tf.Tensor), tf.lessEqual(ph as tf.Tensor, qh as tf.Tensor)),
    p.low,
    q.low,
    p.high,
    q.high,
  );
  const v = tf.sub(tf.log(tf.sub(q.high, q.low)), tf.log(tf.sub(p.high, p.low)));
  return tf.where(inside, v, tf.fill(v.shape, Number.POSITIVE_INFINITY));
});

registerKL(Categorical, Categorical, (p, q) => {
  const pp = tf.exp(p.logits);
  const terms = tf.where(
    detachedCompare('greater', pp, 0),
    tf.mul(pp, tf.sub(p.logits, q.logits)),
    tf.zerosLike(pp),
  );
  return tf.sum(terms, -1);
});

registerKL(Independent, Independent, (p, q) => {
  if (p.reinterpretedBatchNdims !== q.reinterpretedBatchNdims) {
    throw new ConfigError('q.reinterpretedBatchNdims', 'must equal p.reinterpretedBatchNdims');
  }
  const inner = kl(p.base, q.base);
  const n = p.reinterpretedBatchNdims;
  if (n === 0) return inner;
  return tf.sum(
    inner,
    Array.from({ length: n }, (_, i) => inner.shape.length - n + i),
  );
});
