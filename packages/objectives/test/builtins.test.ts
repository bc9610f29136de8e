import { VonMises } from '@gcvi/distributions';
import type { LossContext, Objective, VariationalDistribution } from '@gcvi/objective-contract';
import * as utils from '@gcvi/objective-utils';
import { ObjectiveError } from '@gcvi/objective-utils';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { elbo, forwardKl, iwbo, logMeanExp, minibatch, objectiveLoss, stopGradient } from '../src/index.js';
import { conjugateProblem, linearQ, tinyNormal } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

// ---- float64 references for the linear-Gaussian q on the conjugate model ----------------------
type P4 = [number, number, number, number]; // a, b, c, d: mean = a x + b, log sd = c x + d
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const logN = (v: number, m: number, logS: number) =>
  -0.5 * ((v - m) / Math.exp(logS)) ** 2 - logS - HALF_LOG_2PI;
const logJoint = (z: number, x: number) => logN(z, 0, 0) + logN(x, z, 0);
function weights(p: P4, xs: number[], eps: number[], K: number): number[][] {
  const [a, b, c, d] = p;
  return Array.from({ length: K }, (_, k) =>
    xs.map((x, i) => {
      const m = a * x + b;
      const ls = c * x + d;
      const z = m + Math.exp(ls) * eps[k * xs.length + i]!;
      return logJoint(z, x) - logN(z, m, ls);
    }),
  );
}
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const refForwardKl = (p: P4, th: number[], xs: number[]) =>
  -mean(xs.map((x, i) => logN(th[i]!, p[0] * x + p[1], p[2] * x + p[3])));
const refElbo = (p: P4, xs: number[], eps: number[], K: number) => -mean(weights(p, xs, eps, K).flat());
function refIwbo(p: P4, xs: number[], eps: number[], K: number): number {
  const w = weights(p, xs, eps, K);
  return -mean(
    xs.map((_, i) => {
      const col = w.map((r) => r[i]!);
      const mx = Math.max(...col);
      return mx + Math.log(mean(col.map((v) => Math.exp(v - mx))));
    }),
  );
}
function refSoftmaxValue(p: P4, xs: number[], eps: number[], K: number): number {
  const w = weights(p, xs, eps, K);
  return -mean(
    xs.map((_, i) => {
      const col = w.map((r) => r[i]!);
      const mx = Math.max(...col);
      const e = col.map((v) => Math.exp(v - mx));
      const s = e.reduce((u, v) => u + v, 0);
      return col.reduce((u, v, k) => u + (e[k]! / s) * v, 0);
    }),
  );
}
/** Central differences in float64. */
function fd(f: (p: P4) => number, p: P4, h = 1e-6): number[] {
  return p.map((_, j) => {
    const up = [...p] as P4;
    const dn = [...p] as P4;
    up[j] += h;
    dn[j] -= h;
    return (f(up) - f(dn)) / (2 * h);
  });
}

// ---- evaluating an objective's loss and gradient with tf -----------------------------------
const P0: P4 = [0.2, -0.3, 0.25, -0.1];
const NAMES = ['a', 'b', 'c', 'd'] as const;

function evalLoss<O>(
  obj: Objective<O>,
  options: O,
  batch: Record<string, tf.Tensor>,
  lossSeed: string,
  q: (p: Record<string, tf.Variable>, x: tf.Tensor) => VariationalDistribution = linearQ,
) {
  const params = Object.fromEntries(NAMES.map((n, i) => [n, tf.variable(tf.scalar(P0[i]!), true)]));
  const problem = conjugateProblem();
  const ctx: LossContext<O> = {
    batch,
    problem,
    options,
    q: (x) => q(params, x),
    rng: createRng(lossSeed),
  };
  const { value, grads } = tf.variableGrads(() => obj.loss(ctx), Object.values(params));
  const v = value.dataSync()[0]!;
  const g = NAMES.map((n) => grads[params[n]!.name]!.dataSync()[0]!);
  value.dispose();
  for (const t of Object.values(grads)) t.dispose();
  for (const t of Object.values(params)) t.dispose();
  return { value: v, grad: g };
}

function noise(seed: string, n: number): number[] {
  return Array.from(createRng(seed).fillNormal(new Float32Array(n)));
}

const B = 24;
const xsArr = Array.from(createRng('xs').fillNormal(new Float32Array(B), 0, Math.SQRT2));
const thArr = Array.from(createRng('th').fillNormal(new Float32Array(B)));

function expectClose(got: number[], want: number[], tol: number) {
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]!), `component ${i}: got ${g}, want ${want[i]}`).toBeLessThan(tol);
  });
}

describe('forward-kl', () => {
  it('loss and gradient equal the float64 reference (abs 2e-5) on a fixed batch', () => {
    const batch = { theta: tf.tensor1d(thArr), x: tf.tensor2d(xsArr, [B, 1]) };
    const r = evalLoss(forwardKl, {}, batch, 'unused');
    expect(Math.abs(r.value - refForwardKl(P0, thArr, xsArr))).toBeLessThan(2e-5);
    expectClose(
      r.grad,
      fd((p) => refForwardKl(p, thArr, xsArr), P0),
      2e-5,
    );
    tf.dispose(batch);
  });

  it('sampleBatch draws batchSize fresh pairs from the simulator (option overrides)', () => {
    const problem = conjugateProblem();
    const ctx = { problem, options: {}, batchSize: 7, step: 0 };
    const b1 = forwardKl.sampleBatch({ ...ctx, rng: createRng(1) });
    const b2 = forwardKl.sampleBatch({ ...ctx, rng: createRng(2), options: { batchSize: 5 } });
    expect(b1.theta!.shape).toEqual([7]);
    expect(b1.x!.shape).toEqual([7, 1]);
    expect(b2.theta!.shape).toEqual([5]);
    tf.dispose([b1, b2] as never);
    expect(() => forwardKl.sampleBatch({ ...ctx, problem: {}, rng: createRng(1) })).toThrow(
      /problem\.simulate: objective 'forward-kl' requires/,
    );
  });
});

describe('one log-density per draw', () => {
  const n = 6;
  const eta = () => createRng(9).normalTensor([n, 2]);
  const vm = (x: tf.Tensor) => VonMises.fromNatural(x, { validateArgs: false });

  it("forward-kl: von Mises q of batch [n] at theta [n, 1] (which broadcasts to [n, n]) is a shape error naming 'theta'", () => {
    const x = eta();
    const thetaCol = createRng(10).uniformTensor([n, 1], 0, 2 * Math.PI);
    const ctx = { batch: { theta: thetaCol, x }, problem: {}, options: {}, q: vm, rng: createRng(1) };
    expect(() => forwardKl.loss(ctx)).toThrow(ObjectiveError);
    expect(() => forwardKl.loss(ctx)).toThrow(
      /^theta: expected shape \[6\] .*logProb\(theta\) must have shape \[6\].*has \[6, 6\].*got \[6, 1\]$/,
    );
    // θ of shape [n]: accepted, and the loss is −mean of the n per-pair log-densities.
    const thetaFlat = tf.reshape(thetaCol, [n]);
    const loss = forwardKl.loss({ ...ctx, batch: { theta: thetaFlat, x } }).dataSync()[0]!;
    const q = vm(x);
    const lp = Array.from(q.logProb(thetaFlat).dataSync() as Float32Array);
    expect(loss).toBeCloseTo(-lp.reduce((a, b) => a + b, 0) / n, 6);
    q.dispose();
    tf.dispose([x, thetaCol, thetaFlat]);
  });

  it('elbo and iwbo: a logJoint whose shape differs from logProb(z) ([K, B]) is a shape error naming it', () => {
    const problem = conjugateProblem();
    const bad = {
      ...problem,
      logJoint: (z: tf.Tensor, x: tf.Tensor) => tf.expandDims(problem.logJoint!(z, x), 2), // [K, B, 1]
    };
    const batch = { x: tf.tensor2d(xsArr, [B, 1]) };
    for (const [o, options] of [
      [elbo, { K: 3, weighting: 'mean' }],
      [iwbo, { K: 3 }],
    ] as const) {
      const params = Object.fromEntries(NAMES.map((k, i) => [k, tf.variable(tf.scalar(P0[i]!), true)]));
      const ctx = {
        batch,
        problem: bad,
        options,
        q: (x: tf.Tensor) => linearQ(params, x),
        rng: createRng(1),
      };
      expect(() => (o as Objective<unknown>).loss(ctx as never)).toThrow(
        new RegExp(`^problem\\.logJoint\\(z, x\\): expected shape \\[3, ${B}\\].*got \\[3, ${B}, 1\\]$`),
      );
      tf.dispose(Object.values(params));
    }
    tf.dispose(batch);
  });
});

describe('elbo and iwbo against float64 references with the same noise', () => {
  const K = 5;
  const eps = noise('loss', K * B); // the order tinyNormal.rsample draws them: [K, B]

  it("elbo 'mean': value and gradient (abs 5e-5)", () => {
    const batch = { x: tf.tensor2d(xsArr, [B, 1]) };
    const r = evalLoss(elbo, { K, weighting: 'mean' }, batch, 'loss');
    expect(Math.abs(r.value - refElbo(P0, xsArr, eps, K))).toBeLessThan(5e-5);
    expectClose(
      r.grad,
      fd((p) => refElbo(p, xsArr, eps, K), P0),
      5e-5,
    );
    tf.dispose(batch);
  });

  it('iwbo: value and gradient (abs 5e-5)', () => {
    const batch = { x: tf.tensor2d(xsArr, [B, 1]) };
    const r = evalLoss(iwbo, { K }, batch, 'loss');
    expect(Math.abs(r.value - refIwbo(P0, xsArr, eps, K))).toBeLessThan(5e-5);
    expectClose(
      r.grad,
      fd((p) => refIwbo(p, xsArr, eps, K), P0),
      5e-5,
    );
    tf.dispose(batch);
  });

  it("elbo 'softmax': value is the self-normalized average of w; its gradient is the IWBO gradient", () => {
    const batch = { x: tf.tensor2d(xsArr, [B, 1]) };
    const r = evalLoss(elbo, { K, weighting: 'softmax' }, batch, 'loss');
    expect(Math.abs(r.value - refSoftmaxValue(P0, xsArr, eps, K))).toBeLessThan(5e-5);
    expectClose(
      r.grad,
      fd((p) => refIwbo(p, xsArr, eps, K), P0),
      5e-5,
    );
    tf.dispose(batch);
  });

  it('K = 1: elbo and iwbo coincide', () => {
    const batch = { x: tf.tensor2d(xsArr, [B, 1]) };
    const a = evalLoss(elbo, { K: 1, weighting: 'mean' }, batch, 'k1');
    const b = evalLoss(iwbo, { K: 1 }, batch, 'k1');
    expect(Math.abs(a.value - b.value)).toBeLessThan(1e-6);
    expectClose(a.grad, b.grad, 1e-6);
    tf.dispose(batch);
  });

  it('iwbo without rsample: same value; score-function gradient unbiased (matches the reparameterized one)', () => {
    // 4000 copies of one observation: the batch mean averages 4000 independent gradient draws.
    const n = 4000;
    const batch = { x: tf.fill([n, 1], 0.8) };
    const noRsample = (p: Record<string, tf.Variable>, x: tf.Tensor): VariationalDistribution => {
      const q = linearQ(p, x);
      return { batchShape: q.batchShape, eventShape: q.eventShape, logProb: q.logProb, sample: q.sample };
    };
    const rep = evalLoss(iwbo, { K: 3 }, batch, 'sf');
    const sf = evalLoss(iwbo, { K: 3 }, batch, 'sf', noRsample);
    expect(Math.abs(rep.value - sf.value)).toBeLessThan(1e-5);
    // Tolerance 0.08 per component; dropping the score-function term moves the first component by
    // about 0.45 (checked by mutation), so this detects a biased estimator.
    expectClose(sf.grad, rep.grad, 0.08);
    tf.dispose(batch);
  });

  it('options: defaults, validation naming the field', () => {
    expect(elbo.parseOptions(undefined)).toEqual({ K: 1, weighting: 'mean' });
    expect(iwbo.parseOptions({ K: 100, batchSize: 32 })).toEqual({ K: 100, batchSize: 32 });
    expect(() => elbo.parseOptions({ weighting: 'max' })).toThrow(
      /elbo\.options\.weighting: must be 'mean' or 'softmax'/,
    );
    expect(() => iwbo.parseOptions({ K: 0 })).toThrow(/iwbo\.options\.K: must be a positive integer/);
    expect(() => iwbo.parseOptions([1])).toThrow(/iwbo\.options: must be an object/);
  });
});

describe('helpers', () => {
  it('minibatch, logMeanExp and stopGradient are the ones of @gcvi/objective-utils (tested there)', () => {
    expect([minibatch, logMeanExp, stopGradient]).toEqual([
      utils.minibatch,
      utils.logMeanExp,
      utils.stopGradient,
    ]);
  });
});

describe('objectiveLoss', () => {
  it('evaluates a named objective outside fit on plain tensors, differentiable with tf.grads', () => {
    const theta = tf.tensor1d(thArr);
    const x = tf.tensor2d(xsArr, [B, 1]);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
      objectiveLoss({
        objective: 'forward-kl',
        params: { a, b, c, d },
        variational: (p, xx) => {
          const xr = tf.reshape(xx, [-1]);
          return tinyNormal(tf.add(tf.mul(p.a, xr), p.b), tf.add(tf.mul(p.c, xr), p.d));
        },
        problem: conjugateProblem(),
        batch: { theta, x },
        rng: createRng(1),
      });
    const args = P0.map((v) => tf.scalar(v));
    const grads = tf.grads(f)(args);
    const value = f(args[0]!, args[1]!, args[2]!, args[3]!);
    expect(Math.abs(value.dataSync()[0]! - refForwardKl(P0, thArr, xsArr))).toBeLessThan(2e-5);
    expectClose(
      grads.map((g) => g.dataSync()[0]!),
      fd((p) => refForwardKl(p, thArr, xsArr), P0),
      2e-5,
    );
    tf.dispose([theta, x, value, ...args, ...grads]);
  });
});
