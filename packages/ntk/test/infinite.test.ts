import { dense, type NamedTensors } from '@gcvi/encoders';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  arcCosineKernels,
  empiricalNtk,
  infiniteWidthNtk,
  minEigenvalue,
  type NtkTerm,
  ntkGram,
  symmetricEigenvalues,
} from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

function circlePoints(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const a = rng.uniform() * 2 * Math.PI;
    return [Math.cos(a), Math.sin(a)];
  });
}

describe('arc-cosine kernels: the constants, by Monte Carlo in float64', () => {
  it('E[relu(w·x) relu(w·y)] and E[1{w·x>0} 1{w·y>0}] for w ~ N(0, I2) match within 4 standard errors', () => {
    const rng = createRng(99);
    const pairs: [number[], number[]][] = [
      [
        [1, 0],
        [0.6, 0.8],
      ],
      [
        [2, -1],
        [-0.5, 1.5],
      ],
      [
        [0.3, 0.4],
        [0.3, 0.4],
      ],
      [
        [1, 1],
        [-1, -1.01],
      ],
    ];
    const n = 200_000;
    const w = rng.fillNormal(new Float64Array(2 * n));
    for (const [x, y] of pairs) {
      const { k0, k1 } = arcCosineKernels(x, y);
      let s0 = 0;
      let s1 = 0;
      let q0 = 0;
      let q1 = 0;
      for (let i = 0; i < n; i++) {
        const a = w[2 * i]! * x[0]! + w[2 * i + 1]! * x[1]!;
        const b = w[2 * i]! * y[0]! + w[2 * i + 1]! * y[1]!;
        const v0 = a > 0 && b > 0 ? 1 : 0;
        const v1 = Math.max(a, 0) * Math.max(b, 0);
        s0 += v0;
        s1 += v1;
        q0 += v0 * v0;
        q1 += v1 * v1;
      }
      const m0 = s0 / n;
      const m1 = s1 / n;
      const se0 = Math.sqrt((q0 / n - m0 * m0) / n);
      const se1 = Math.sqrt((q1 / n - m1 * m1) / n);
      expect(Math.abs(m0 - k0)).toBeLessThanOrEqual(4 * se0 + 1e-12);
      expect(Math.abs(m1 - k1)).toBeLessThanOrEqual(4 * se1 + 1e-12);
    }
    // Exact values at the ends: ψ = 0 gives 1/2 and ‖x‖²/2; ψ = π gives 0 and 0.
    expect(arcCosineKernels([3, 4], [3, 4]).k1).toBeCloseTo(12.5, 12);
    expect(arcCosineKernels([3, 4], [3, 4]).k0).toBeCloseTo(0.5, 12);
    expect(arcCosineKernels([1, 0], [-2, 0]).k1).toBeCloseTo(0, 12);
  });

  it('on the unit circle Θ(ψ) = (sin ψ + 2(π − ψ) cos ψ)/(2π), and the terms add up', () => {
    for (const psi of [0, 0.3, 1.5, 2.9, Math.PI]) {
      const k = infiniteWidthNtk([[1, 0]], [[Math.cos(psi), Math.sin(psi)]]);
      const ref = (Math.sin(psi) + 2 * (Math.PI - psi) * Math.cos(psi)) / (2 * Math.PI);
      expect(k.data[0]).toBeCloseTo(ref, 12);
      const last = infiniteWidthNtk([[1, 0]], [[Math.cos(psi), Math.sin(psi)]], { term: 'lastLayer' })
        .data[0]!;
      const first = infiniteWidthNtk([[1, 0]], [[Math.cos(psi), Math.sin(psi)]], { term: 'firstLayer' })
        .data[0]!;
      expect(last + first).toBeCloseTo(ref, 12);
    }
    expect(() => infiniteWidthNtk([[1, 0]], [[1, 0, 0]])).toThrow(/x2: expected shape/);
    expect(() => infiniteWidthNtk([[1, Number.NaN]])).toThrow(/x1\[0\]: must be finite/);
  });
});

/** Mean over seeds of ‖K_emp − Θ ⊗ I‖_F / ‖Θ ⊗ I‖_F on 8 circle points. */
function relativeError(width: number, term: NtkTerm, seeds: number[]): number {
  const pts = circlePoints(8, 5);
  const theta = infiniteWidthNtk(pts, undefined, { term });
  const enc = dense({ inputSize: 2, hiddenSizes: [width], outputSize: 2 });
  const x = tf.tensor2d(pts);
  let total = 0;
  for (const seed of seeds) {
    const r = createRng(seed).split(`width-${width}`);
    // 'both': a last layer drawn N(0, 1) (the NTK limit of training both layers);
    // 'lastLayer': the E1 initialization, last layer zero.
    const params: NamedTensors = {
      w0: r.split('w0').normalTensor([2, width]),
      w1: term === 'both' ? r.split('w1').normalTensor([width, 2]) : tf.zeros([width, 2]),
    };
    const k = empiricalNtk(enc, params, x);
    const kv = k.dataSync();
    let err = 0;
    let norm = 0;
    for (let a = 0; a < 8; a++)
      for (let b = 0; b < 8; b++)
        for (let o = 0; o < 2; o++)
          for (let o2 = 0; o2 < 2; o2++) {
            const ref = o === o2 ? theta.data[a * 8 + b]! : 0;
            err += (kv[((a * 8 + b) * 2 + o) * 2 + o2]! - ref) ** 2;
            norm += ref * ref;
          }
    total += Math.sqrt(err / norm);
    tf.dispose([k, ...Object.values(params)]);
  }
  x.dispose();
  return total / seeds.length;
}

describe('the empirical NTK approaches the infinite-width NTK as the width grows', () => {
  for (const term of ['both', 'lastLayer'] as const) {
    it(`term '${term}': relative error falls from width 64 to 1024 to 16384`, () => {
      const seeds = [1, 2, 3];
      const errs = [64, 1024, 16384].map((w) => relativeError(w, term, seeds));
      console.log(
        `NTK relative error (${term}) at widths 64/1024/16384: ${errs.map((e) => e.toFixed(4)).join(' / ')}`,
      );
      expect(errs[1]!).toBeLessThan(errs[0]!);
      expect(errs[2]!).toBeLessThan(errs[1]!);
      // Monte Carlo error of a width-W average is O(1/√W): at 16384 about 1%.
      expect(errs[2]!).toBeLessThan(0.04);
    });
  }
});

describe('positive definiteness on a tracked set (the convergence theorem’s assumption)', () => {
  it('the infinite-width NTK Gram on 100 points on the circle is positive definite', () => {
    const pts = circlePoints(100, 123);
    const g = infiniteWidthNtk(pts);
    const ev = symmetricEigenvalues(g.data, 100);
    const lmin = ev[99]!;
    console.log(
      `infinite-width NTK Gram on 100 circle points: λmin = ${lmin.toExponential(3)}, λmax = ${ev[0]!.toFixed(3)}`,
    );
    // Jacobi's absolute error is ~1e-15 · λmax ≈ 4e-14; the margin is eight orders of magnitude.
    expect(lmin).toBeGreaterThan(1e-6);
  });

  it('a finite network’s Gram is singular when three inputs share an activation arc; the limit is not', () => {
    // Three inputs within 1e-4 rad: at width 64 no ReLU boundary falls between them (with this
    // seed), so every tangent feature is linear in x on their arc and x3 = αx1 + βx2 forces
    // J(x3) = αJ(x1) + βJ(x2). The infinite-width kernel has no such arcs.
    const angles = [0.5, 0.50005, 0.5001, 2, 4];
    const pts = angles.map((a) => [Math.cos(a), Math.sin(a)]);
    const enc = dense({ inputSize: 2, hiddenSizes: [64], outputSize: 2 });
    const r = createRng(4);
    const params: NamedTensors = {
      w0: r.split('w0').normalTensor([2, 64]),
      w1: r.split('w1').normalTensor([64, 2]),
    };
    const x = tf.tensor2d(pts);
    const g = ntkGram(enc, params, x);
    const ev = symmetricEigenvalues(g.data, 10);
    expect(Math.abs(ev[9]!)).toBeLessThan(1e-9 * ev[0]!);
    expect(minEigenvalue(infiniteWidthNtk(pts).data, 5)).toBeGreaterThan(1e-14);
    tf.dispose([x, ...Object.values(params)]);
  });
});
