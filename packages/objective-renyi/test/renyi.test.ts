import type { AnyObjective, LossContext } from '@gcvi/objective-contract';
import { createRegistry, elbo, iwbo, loadObjectivePlugins } from '@gcvi/objectives';
import {
  conjugateProblem,
  linearEncoderParams,
  linearNormalQ,
  runObjectiveConformance,
} from '@gcvi/objectives/test';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { objectives, renyi, renyiBound } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

/** Loss and gradients of `obj` on one minibatch of the conjugate problem, noise from `seed`. */
function evaluate(obj: AnyObjective, options: unknown, seed = 'noise') {
  const root = createRng('renyi-test');
  const problem = conjugateProblem(['observed', 'logJoint'], root.split('data'), 64);
  const params = linearEncoderParams();
  const opts = obj.parseOptions(options);
  const batch = obj.sampleBatch({ problem, rng: root.split('batch'), options: opts, batchSize: 32, step: 0 });
  const ctx: LossContext<unknown> = {
    batch,
    problem,
    options: opts,
    q: (x) => linearNormalQ(params, x),
    rng: createRng(seed),
  };
  const { value, grads } = tf.variableGrads(() => obj.loss(ctx), Object.values(params));
  const out = {
    value: value.dataSync()[0] as number,
    grad: Object.values(params).map((v) => grads[v.name]!.dataSync()[0] as number),
  };
  tf.dispose([value, ...Object.values(grads), ...Object.values(batch), ...Object.values(params)]);
  problem.dispose();
  return out;
}

function expectClose(
  a: { value: number; grad: number[] },
  b: { value: number; grad: number[] },
  tol: number,
) {
  expect(Math.abs(a.value - b.value), `values ${a.value} vs ${b.value}`).toBeLessThanOrEqual(tol);
  a.grad.forEach((g, i) => {
    expect(Math.abs(g - b.grad[i]!), `gradient ${i}: ${g} vs ${b.grad[i]}`).toBeLessThanOrEqual(tol);
  });
}

/** Float64 reference of the MC Rényi bound for one column of log-weights. */
function refBound(w: number[], alpha: number): number {
  if (alpha === 1) return w.reduce((s, v) => s + v, 0) / w.length;
  const b = 1 - alpha;
  const m = b > 0 ? Math.max(...w) : Math.min(...w);
  return m + Math.log(w.reduce((s, v) => s + Math.exp(b * (v - m)), 0) / w.length) / b;
}

describe('plugin loading', () => {
  it('registers through loadObjectivePlugins in a fresh registry, without touching @gcvi/objectives', async () => {
    const r = createRegistry();
    expect(await loadObjectivePlugins(['@gcvi/objective-renyi'], r)).toEqual(['renyi']);
    expect(r.get('renyi')).toBe(renyi);
    expect(objectives).toEqual([renyi]);
    await expect(loadObjectivePlugins(['@gcvi/objective-renyi'], r)).rejects.toThrow(
      /'renyi' is already registered/,
    );
  });
});

const test = { describe, it, beforeAll };
runObjectiveConformance(renyi, { test, objectiveOptions: { alpha: 0.5, K: 4 } });
runObjectiveConformance(renyi, { test, objectiveOptions: { alpha: 2, K: 4 } });

describe('limits in α', () => {
  it('α = 1 is the ELBO exactly (same samples)', () => {
    expectClose(evaluate(renyi, { alpha: 1, K: 8 }), evaluate(elbo, { K: 8 }), 1e-6);
  });

  it('α → 1 approaches the ELBO linearly in 1 − α (difference ≈ (1 − α)/2 · mean Var_k w)', () => {
    const e = evaluate(elbo, { K: 8 }).value;
    const d = [1e-2, 1e-3, 1e-4].map((eps) => e - evaluate(renyi, { alpha: 1 - eps, K: 8 }).value);
    expect(d[0]).toBeGreaterThan(0);
    expect(d[0]! / d[1]!).toBeGreaterThan(9);
    expect(d[0]! / d[1]!).toBeLessThan(11);
    expect(d[1]! / d[2]!).toBeGreaterThan(9);
    expect(d[1]! / d[2]!).toBeLessThan(11);
  });

  it('α = 0 is the IWBO (same samples, abs 1e-5)', () => {
    expectClose(evaluate(renyi, { alpha: 0, K: 8 }), evaluate(iwbo, { K: 8 }), 1e-5);
  });

  it('K = 1 gives the ELBO for any α', () => {
    for (const alpha of [-2, 0, 0.5, 3])
      expectClose(evaluate(renyi, { alpha, K: 1 }), evaluate(elbo, { K: 1 }), 1e-5);
  });

  it('the bound decreases in α (Li & Turner, Thm 1) on the same samples', () => {
    const v = [-1, 0, 0.5, 1, 2].map((alpha) => -evaluate(renyi, { alpha, K: 8 }).value);
    for (let i = 1; i < v.length; i++) expect(v[i]).toBeLessThan(v[i - 1]!);
  });
});

describe('renyiBound', () => {
  it('matches a float64 reference, including extreme log-weights and α near 1 (rel 1e-6)', () => {
    const cols = [
      [-3.2, -1.1, 0.4, -0.7],
      [-1e4, -1e4 + 2, -1e4 - 5, -1e4 + 1],
      [800, -800, 0, 799],
    ];
    for (const alpha of [-5, 0, 0.5, 0.999999, 1, 1.5, 20]) {
      const w = tf.tensor2d(cols).transpose(); // [K=4, B=3]
      const got = Array.from(renyiBound(w, alpha, 0).dataSync());
      cols.forEach((c, i) => {
        const want = refBound(c, alpha);
        expect(Math.abs(got[i]! - want), `α=${alpha}, column ${i}: ${got[i]} vs ${want}`).toBeLessThanOrEqual(
          1e-6 * Math.max(1, Math.abs(want)),
        );
      });
      w.dispose();
    }
  });
});

describe('options', () => {
  it('defaults and errors naming the field', () => {
    expect(renyi.parseOptions(undefined)).toEqual({ alpha: 0.5, K: 10 });
    expect(renyi.parseOptions({ alpha: 0, K: 3, batchSize: 8 })).toEqual({ alpha: 0, K: 3, batchSize: 8 });
    expect(() => renyi.parseOptions({ alpha: Number.NaN })).toThrow(
      /renyi\.options\.alpha: must be a finite number/,
    );
    expect(() => renyi.parseOptions({ K: 1.5 })).toThrow(/renyi\.options\.K: must be a positive integer/);
    expect(() => renyi.parseOptions({ alfa: 1 })).toThrow(/renyi\.options\.alfa: unknown option/);
  });
});
