import {
  Categorical,
  Independent,
  kl,
  type MixtureSameFamily,
  Normal,
  registerKL,
  type SampleStream,
  Uniform,
  VonMises,
} from '@gcvi/distributions';
import type { RandomStream, VariationalDistribution } from '@gcvi/objective-contract';
import { createRng, initBackend, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, refLogI0 } from './helpers.js';

// Compile-time checks: every class satisfies the objective contract's VariationalDistribution,
// and both the runtime Rng and the contract's RandomStream are accepted as sampling streams.
type Assert<T extends true> = T;
type Satisfies<A, B> = A extends B ? true : false;
type Checks = [
  Assert<Satisfies<Normal, VariationalDistribution>>,
  Assert<Satisfies<VonMises, VariationalDistribution>>,
  Assert<Satisfies<Uniform, VariationalDistribution>>,
  Assert<Satisfies<Categorical, VariationalDistribution>>,
  Assert<Satisfies<MixtureSameFamily, VariationalDistribution>>,
  Assert<Satisfies<Independent, VariationalDistribution>>,
  Assert<Satisfies<Rng, SampleStream>>,
  Assert<Satisfies<RandomStream, SampleStream>>,
];

describe('contract, KL registry, memory', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('a distribution can be used through the VariationalDistribution interface', () => {
    const checks: Checks = [true, true, true, true, true, true, true, true];
    expect(checks).toHaveLength(8);
    const q: VariationalDistribution = new Independent(new Normal(tf.zeros([3, 2]), 1), 1);
    expect(q.logProb(tf.zeros([3, 2])).shape).toEqual([3]);
    expect(q.rsample?.(4, createRng(1)).shape).toEqual([4, 3, 2]);
  });

  it('KL(Normal‖Normal) and KL(VonMises‖VonMises) match grid integrals of p log(p/q)', () => {
    const n = 40000;
    const p = new Normal(tf.tensor1d([0.3, -1]), tf.tensor1d([0.7, 2]));
    const q = new Normal(tf.tensor1d([-0.5, 1]), tf.tensor1d([1.2, 0.5]));
    const got = kl(p, q).dataSync();
    [
      [0.3, 0.7, -0.5, 1.2],
      [-1, 2, 1, 0.5],
    ].forEach(([mp, sp, mq, sq], i) => {
      let s = 0;
      const lo = mp! - 14 * sp!;
      const h = (28 * sp!) / n;
      for (let k = 0; k <= n; k++) {
        const x = lo + k * h;
        const lp = -0.5 * ((x - mp!) / sp!) ** 2 - Math.log(sp!);
        const lq = -0.5 * ((x - mq!) / sq!) ** 2 - Math.log(sq!);
        s += (k === 0 || k === n ? 0.5 : 1) * Math.exp(lp - 0.5 * Math.log(2 * Math.PI)) * (lp - lq) * h;
      }
      expectClose(got[i]!, s, 1e-5 * Math.max(1, s));
    });
    const vp = new VonMises(0.5, 3);
    const vq = new VonMises(-1, 0.7);
    let s = 0;
    for (let k = 0; k < n; k++) {
      const t = -Math.PI + ((k + 0.5) * 2 * Math.PI) / n;
      const lp = 3 * Math.cos(t - 0.5) - refLogI0(3) - Math.log(2 * Math.PI);
      const lq = 0.7 * Math.cos(t + 1) - refLogI0(0.7) - Math.log(2 * Math.PI);
      s += Math.exp(lp) * (lp - lq) * ((2 * Math.PI) / n);
    }
    expectClose(kl(vp, vq).dataSync()[0]!, s, 1e-5);
    // Independent sums over the reinterpreted dimensions; Categorical closed form
    const ip = new Independent(p, 1);
    const iq = new Independent(q, 1);
    expectClose(kl(ip, iq).dataSync()[0]!, got[0]! + got[1]!, 1e-5);
    const cp = new Categorical({ probs: tf.tensor1d([0.2, 0.8, 0]) });
    const cq = new Categorical({ probs: tf.tensor1d([0.5, 0.25, 0.25]) });
    expectClose(kl(cp, cq).dataSync()[0]!, 0.2 * Math.log(0.4) + 0.8 * Math.log(3.2), 1e-6);
    expectClose(kl(new Uniform(0, 1), new Uniform(-1, 3)).dataSync()[0]!, Math.log(4), 1e-6);
    expect(kl(new Uniform(0, 1), new Uniform(0.5, 3)).dataSync()[0]).toBe(Number.POSITIVE_INFINITY);
  });

  it('registering a KL pair twice is an error; an unknown pair is an error', () => {
    expect(() => registerKL(Normal, Normal, () => tf.scalar(0))).toThrow(/already registered/);
    expect(() => kl(new Normal(0, 1), new VonMises(0, 1))).toThrow(/no KL registered/);
  });

  it('logProb, sample and gradients leak no tensors', () => {
    const d = new Normal(0, 1);
    const v = VonMises.fromNatural(tf.tensor2d([[1, 2]]));
    const eta = tf.tensor1d([0.3, 0.4]);
    const x = tf.scalar(0.5);
    const t = tf.zeros([3, 1]);
    const rng = createRng(1);
    const run = () => {
      tf.dispose([d.logProb(x), v.logProb(t), v.sample(3, rng), d.sample(3, rng)]);
      tf.dispose(tf.grad((e: tf.Tensor) => VonMises.fromNatural(e).logProb(x))(eta));
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});
