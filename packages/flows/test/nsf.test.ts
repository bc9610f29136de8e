import { type NsfOptions, nsf } from '@gcvi/flows';
import { ConfigError, createRng, initBackend, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bentFlow, refParams, rows } from './helpers.js';
import { fdLogAbsDet, refForward, refLogProb } from './ref.js';

beforeAll(async () => {
  await initBackend();
});

const CASES: Record<string, NsfOptions> = {
  '2-D, context 3': { dim: 2, contextDim: 3, layers: 4, bins: 6, hidden: 16, bound: 2.5 },
  '5-D, context 2, box and standardization': {
    dim: 5,
    contextDim: 2,
    layers: 3,
    bins: 5,
    hidden: 12,
    box: { low: [-3, -3, -3, -3, -3], high: [3, 3, 3, 3, 3] },
    standardize: { mean: [0.1, -0.2, 0, 0.3, 0], std: [1.5, 1, 2, 0.8, 1.2] },
  },
  '1-D, context 2': { dim: 1, contextDim: 2, layers: 2, bins: 7, hidden: 10, activation: 'tanh' },
  '1-D, unconditional': { dim: 1, contextDim: 0, layers: 2, bins: 7 },
  '3-D, unconditional': { dim: 3, contextDim: 0, layers: 3, bins: 4, hidden: 8, depth: 1 },
};

function points(o: NsfOptions, n: number, seed: number) {
  const rng = createRng(seed);
  const theta = o.box ? rng.uniformTensor([n, o.dim], -2.9, 2.9) : rng.normalTensor([n, o.dim], 0, 2); // reaches the identity tails
  const context = o.contextDim > 0 ? rng.normalTensor([n, o.contextDim]) : undefined;
  return { theta, context };
}

describe.each(Object.entries(CASES))('nsf %s', (_name, options) => {
  it('matches the float64 reference; log-determinant matches a finite-difference Jacobian', () => {
    const { flow, params } = bentFlow(options);
    const n = 40;
    const { theta, context } = points(options, n, 7);
    const { z, logDet } = flow.forward(params, theta, context);
    const lp = flow.logProb(params, theta, context);
    const p = refParams(params);
    const th = rows(theta);
    const ctx = context ? rows(context) : th.map(() => []);
    const zs = rows(z);
    const ld = logDet.dataSync();
    const lps = lp.dataSync();
    for (let i = 0; i < n; i++) {
      const ref = refForward(flow.spec, p, th[i] as number[], ctx[i] as number[]);
      ref.z.forEach((v, j) => {
        expect(Math.abs((zs[i]![j] as number) - v)).toBeLessThan(1e-4 * (1 + Math.abs(v)));
      });
      // Analytic float64 log-determinant vs central differences of the float64 map. Step 1e-5: with
      // the LU layers the bent maps' Jacobians are ill-conditioned enough that rounding dominates
      // at 1e-6 (measured on the 3-D case: worst error 4.7e-7 at h = 1e-4, 4.1e-6 at 1e-5, 2.0e-5
      // at 1e-6, i.e. shrinking with h, not truncation).
      const fd = fdLogAbsDet(
        (t) => refForward(flow.spec, p, t, ctx[i] as number[]).z,
        th[i] as number[],
        1e-5,
      );
      expect(Math.abs(ref.logDet - fd)).toBeLessThan(1e-5);
      // The float32 tfjs log-determinant against the finite-difference one.
      expect(Math.abs((ld[i] as number) - fd)).toBeLessThan(2e-4 * (1 + Math.abs(fd)));
      const refLp = refLogProb(flow.spec, p, th[i] as number[], ctx[i] as number[]);
      expect(Math.abs((lps[i] as number) - refLp)).toBeLessThan(2e-4 * (1 + Math.abs(refLp)));
    }
    tf.dispose([theta, context, z, logDet, lp, ...Object.values(params)]);
  });

  it('inverts to float32 precision and samples with consistent log-densities', () => {
    // Moderately bent (the strongly bent splines' steepest bins amplify float32 rounding by up to
    // e^11; spline.test.ts checks that regime against its condition number).
    const { flow, params, rng } = bentFlow({ ...options, initScale: 0.5 }, 1, 0.5);
    const n = 500;
    const { theta, context } = points(options, n, 8);
    const { z, logDet } = flow.forward(params, theta, context);
    const back = flow.inverse(params, z, context);
    const err = tf.max(tf.div(tf.abs(tf.sub(back.theta, theta)), tf.add(1, tf.abs(theta)))).dataSync()[0];
    expect(err).toBeLessThan(2e-5);
    const ldGap = tf.max(tf.abs(tf.add(back.logDet, logDet))).dataSync()[0];
    expect(ldGap).toBeLessThan(5e-4);
    // Draws and their log-densities from the sampling pass equal logProb evaluated afterwards.
    const ctx1 = context ? tf.slice(context, [0, 0], [1, -1]) : undefined;
    const s = flow.sampleAndLogProb(params, 300, ctx1, rng.split('sample'));
    const again = flow.logProb(params, s.theta, ctx1);
    const gap = tf.max(tf.abs(tf.sub(s.logProb, again))).dataSync()[0];
    expect(gap).toBeLessThan(5e-4);
    expect(s.theta.shape).toEqual([300, options.dim]);
    tf.dispose([theta, context, z, logDet, back.theta, back.logDet, ctx1, s.theta, s.logProb, again]);
    tf.dispose(Object.values(params));
  });

  it('gradients of the mean log-density match float64 finite differences', () => {
    const { flow, params, rng } = bentFlow(options);
    const n = 6;
    const { theta, context } = points(options, n, 9);
    const names = Object.keys(params).sort();
    const vals = names.map((k) => params[k] as tf.Tensor);
    const grads = tf.grads((...ts: tf.Tensor[]) => {
      const p = Object.fromEntries(names.map((k, i) => [k, ts[i] as tf.Tensor]));
      return tf.mean(flow.logProb(p, theta, context));
    })(vals);
    const ref = refParams(params);
    const th = rows(theta);
    const ctx = context ? rows(context) : th.map(() => []);
    const meanLp = () => th.reduce((a, t, i) => a + refLogProb(flow.spec, ref, t, ctx[i] as number[]), 0) / n;
    const pick = rng.split('pick');
    let checked = 0;
    names.forEach((name, k) => {
      const g = grads[k]!.dataSync();
      const entry = ref[name]!.values;
      for (let c = 0; c < Math.min(6, entry.length); c++) {
        const idx = pick.int(entry.length);
        const h = 1e-6;
        const old = entry[idx] as number;
        entry[idx] = old + h;
        const up = meanLp();
        entry[idx] = old - h;
        const down = meanLp();
        entry[idx] = old;
        const fd = (up - down) / (2 * h);
        expect(Math.abs((g[idx] as number) - fd), `${name}[${idx}]`).toBeLessThan(1e-3 * (1 + Math.abs(fd)));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(5);
    tf.dispose([theta, context, ...grads, ...vals]);
  });
});

/** Midpoint-rule integral of exp(logProb) over a 2-D grid. */
function integrate2d(
  logProb: (pts: tf.Tensor) => tf.Tensor,
  lo: [number, number],
  hi: [number, number],
  steps: number,
): number {
  const hx = (hi[0] - lo[0]) / steps;
  const hy = (hi[1] - lo[1]) / steps;
  let total = 0;
  const rowsPerBatch = 50;
  for (let i0 = 0; i0 < steps; i0 += rowsPerBatch) {
    const nr = Math.min(rowsPerBatch, steps - i0);
    const pts = new Float32Array(nr * steps * 2);
    for (let r = 0; r < nr; r++) {
      for (let j = 0; j < steps; j++) {
        pts[2 * (r * steps + j)] = lo[0] + (i0 + r + 0.5) * hx;
        pts[2 * (r * steps + j) + 1] = lo[1] + (j + 0.5) * hy;
      }
    }
    const t = tf.tensor2d(pts, [nr * steps, 2]);
    const lp = logProb(t);
    const v = lp.dataSync();
    for (let j = 0; j < v.length; j++) total += Math.exp(v[j] as number);
    tf.dispose([t, lp]);
  }
  return total * hx * hy;
}

// Grid integrals: the flows are moderately bent (initScale 0.5, last-layer biases N(0, 0.5²)) so
// that a midpoint grid resolves them. On the 2-D flow below (measured) a grid of step 0.037 gives
// 1.00082 and 1.00378 for the two contexts, step 0.018 gives 1.00002 and 1.00009 over
// [−5.5, 5.5]²; the test uses step 0.018 over [−4.5, 4.5]² (500 steps; measured 0.99992 and
// 1.00032) and tolerance 1e-3.

// With the LU layers (default) the flow is no longer the identity outside the splines' bound, and
// its mass reaches further: over [−7, 7]² the integral missed 1 by 1.6e-3; over [−9, 9]² (the same
// step 0.018, 1,000 steps) it is 0.99991 and 0.99987 for the two contexts (measured).
const GRID = 9;
const GRID_STEPS = 1000;
describe('nsf density', () => {
  // ~500k flow evaluations: seconds on an idle machine, minutes on a loaded one.
  it('integrates to 1 on a 2-D grid, for two contexts', { timeout: 900_000 }, () => {
    const { flow, params } = bentFlow(
      { dim: 2, contextDim: 2, layers: 4, bins: 8, hidden: 16, bound: 3, initScale: 0.5 },
      1,
      0.5,
    );
    for (const c of [
      [0.5, -1],
      [-0.8, 0.3],
    ]) {
      const ctx = tf.tensor2d([c]);
      const total = integrate2d(
        (t) => flow.logProb(params, t, ctx),
        [-GRID, -GRID],
        [GRID, GRID],
        GRID_STEPS,
      );
      expect(Math.abs(total - 1)).toBeLessThan(1e-3);
      ctx.dispose();
    }
  });

  it('integrates to 1 on a 1-D grid (context-only splines)', () => {
    const { flow, params } = bentFlow(
      { dim: 1, contextDim: 1, layers: 3, bins: 8, hidden: 8, initScale: 0.5 },
      1,
      0.5,
    );
    const steps = 20000;
    const grid = tf.tensor2d(
      Float32Array.from({ length: steps }, (_, i) => -8 + (i + 0.5) * (16 / steps)),
      [steps, 1],
    );
    for (const c of [0.7, -1.3]) {
      const lp = flow.logProb(params, grid, tf.tensor2d([[c]]));
      const total = Array.from(lp.dataSync()).reduce((a, v) => a + Math.exp(v), 0) * (16 / steps);
      expect(Math.abs(total - 1)).toBeLessThan(1e-3);
      lp.dispose();
    }
    grid.dispose();
  });

  it('bounded variant: no mass outside the box, density integrates to 1 over it, draws stay inside', {
    timeout: 900_000,
  }, () => {
    const box = { low: [-1, 0], high: [1, 3] };
    const { flow, params, rng } = bentFlow(
      { dim: 2, contextDim: 1, layers: 3, bins: 6, hidden: 12, box, initScale: 0.5 },
      1,
      0.5,
    );
    const ctx = tf.tensor2d([[0.4]]);
    const inside = integrate2d((t) => flow.logProb(params, t, ctx), [-1, 0], [1, 3], 300);
    expect(Math.abs(inside - 1)).toBeLessThan(1e-3);
    const outside = tf.tensor2d([
      [-1.001, 1],
      [1.0001, 1],
      [0, -0.01],
      [0, 3.01],
      [5, 5],
    ]);
    expect(Array.from(flow.logProb(params, outside, ctx).dataSync())).toEqual(Array(5).fill(-Infinity));
    const draws = flow.sample(params, 20000, ctx, rng.split('draws'));
    const d = rows(draws);
    const bad = d.filter(([a, b]) => !(a! > -1 && a! < 1 && b! > 0 && b! < 3));
    expect(bad.length).toBe(0);
    tf.dispose([ctx, outside, draws]);
  });
});

describe('nsf housekeeping', () => {
  it('starts near N(0, I) and leaves no tensors behind', () => {
    const flow = nsf({ dim: 2, contextDim: 1 });
    const rng = createRng(0);
    const params = flow.init(rng.split('init'));
    const theta = tf.tensor2d([
      [0.3, -0.4],
      [1.2, 2],
    ]);
    const ctx = tf.tensor2d([[1]]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(flow.logProb(params, theta, ctx));
      tf.dispose(flow.sample(params, 10, ctx, rng));
      const g = tf.grads((w: tf.Tensor) => tf.mean(flow.logProb({ ...params, 'c0.w0': w }, theta, ctx)))([
        params['c0.w0'] as tf.Tensor,
      ]);
      tf.dispose(g);
    }
    expect(tf.memory().numTensors).toBe(before);
    const lp = flow.logProb(params, theta, ctx).dataSync();
    const normal = (a: number, b: number) => -0.5 * (a * a + b * b) - Math.log(2 * Math.PI);
    expect(Math.abs((lp[0] as number) - normal(0.3, -0.4))).toBeLessThan(0.05);
    expect(Math.abs((lp[1] as number) - normal(1.2, 2))).toBeLessThan(0.05);
  });

  it('LU layers start at the identity: the same density as the flow without them', () => {
    const withLu = nsf({ dim: 3, contextDim: 2, layers: 3, initScale: 0.5 });
    const without = nsf({ ...withLu.spec, lu: false });
    expect(withLu.spec.lu).toBe(true);
    expect(Object.keys(withLu.paramShapes).filter((k) => k.startsWith('lu'))).toHaveLength(12);
    expect(Object.keys(without.paramShapes).some((k) => k.startsWith('lu'))).toBe(false);
    expect(nsf({ dim: 1, contextDim: 2 }).spec.lu).toBe(false); // nothing to mix in 1-D
    const params = withLu.init(createRng(3));
    const plain = Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('lu')));
    const rng = createRng(4);
    const theta = rng.normalTensor([50, 3], 0, 2);
    const ctx = rng.normalTensor([50, 2]);
    const a = withLu.logProb(params, theta, ctx).dataSync();
    const b = without.logProb(plain, theta, ctx).dataSync();
    // Equal up to float32 rounding of W = L·U ≈ I (a few ulps of log-densities of size ~10).
    for (let i = 0; i < 50; i++) {
      expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(
        2e-6 * (1 + Math.abs(b[i] as number)),
      );
    }
    expect(() => nsf({ dim: 2, contextDim: 1, lu: 'yes' as unknown as boolean })).toThrow(/lu/);
    tf.dispose([theta, ctx, ...Object.values(params)]);
  });

  it('rebuilds the same flow from its JSON spec', () => {
    const flow = nsf({
      dim: 5,
      contextDim: 2,
      layers: 4,
      box: { low: [0, 0, 0, 0, 0], high: [1, 2, 3, 4, 5] },
    });
    const again = nsf(JSON.parse(JSON.stringify(flow.spec)));
    expect(again.spec).toEqual(flow.spec);
    expect(again.paramShapes).toEqual(flow.paramShapes);
  });

  it('names the bad option, argument or parameter', () => {
    expect(() => nsf({ dim: 0, contextDim: 1 })).toThrow(ConfigError);
    expect(() => nsf({ dim: 2, contextDim: 1, bins: 1 })).toThrow(/bins/);
    expect(() => nsf({ dim: 2, contextDim: 0, box: { low: [0, 1], high: [1, 1] } })).toThrow(/box.high\[1\]/);
    const flow = nsf({ dim: 2, contextDim: 3 });
    const params = flow.init(createRng(1));
    expect(() => flow.logProb(params, tf.zeros([4, 3]), tf.zeros([4, 3]))).toThrow(ShapeError);
    expect(() => flow.logProb(params, tf.zeros([4, 2]), tf.zeros([2, 3]))).toThrow(/context/);
    expect(() => flow.logProb(params, tf.zeros([4, 2]))).toThrow(/context/);
    const { 'c0.w0': _, ...missing } = params;
    expect(() => flow.logProb(missing, tf.zeros([4, 2]), tf.zeros([1, 3]))).toThrow(/params.c0.w0/);
  });
});
