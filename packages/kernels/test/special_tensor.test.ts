import { initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  i1OverI0,
  i1OverI0DerivNumber,
  i1OverI0Number,
  logI0,
  logI0e,
  logI0eNumber,
  logI0Number,
  oneMinusI1OverI0,
  setSpecialFunctionMode,
  sinStable,
} from '../src/index.js';

/**
 * Float64 reference written independently of the library: the power series (summed term by term
 * until it stops changing) for κ ≤ 20, the asymptotic expansion (summed to its smallest term) above.
 * Returns [log I0, I1/I0, 1 − I1/I0].
 */
function reference(kappa: number): [number, number, number] {
  const k = Math.abs(kappa);
  if (k <= 20) {
    const y = (k * k) / 4;
    let t0 = 1;
    let s0 = 1;
    let t1 = 0.5;
    let s1 = 0.5;
    for (let j = 1; j < 400; j++) {
      t0 *= y / (j * j);
      t1 *= y / (j * (j + 1));
      s0 += t0;
      s1 += t1;
      if (t0 < 1e-18 * s0 && t1 < 1e-18 * s1) break;
    }
    const r = (k * s1) / s0;
    return [Math.log(s0), r, 1 - r];
  }
  // e^{-k} √(2πk) I_ν(k) = Σ_j (−1)^j a_j(ν) / k^j
  let s0 = 1;
  let s1 = 1;
  let t0 = 1;
  let t1 = 1;
  for (let j = 1; j < 60; j++) {
    const n0 = (t0 * (2 * j - 1) ** 2) / (8 * j * k);
    const n1 = (t1 * ((2 * j - 1) ** 2 - 4)) / (8 * j * k);
    if (Math.abs(n0) > Math.abs(t0)) break;
    t0 = n0;
    t1 = n1;
    s0 += t0;
    s1 += t1;
  }
  const logI0v = k - 0.5 * Math.log(2 * Math.PI * k) + Math.log(s0);
  return [logI0v, s1 / s0, (s0 - s1) / s0];
}

/** Sanity check of the reference itself: trapezoid rule of I_ν(κ)e^{−κ} = (1/π)∫₀^π e^{κ(cos t − 1)} cos(νt) dt. */
function integralReference(k: number): [number, number] {
  const n = 20000;
  let a0 = 0;
  let a1 = 0;
  for (let i = 0; i <= n; i++) {
    const t = (Math.PI * i) / n;
    const w = i === 0 || i === n ? 0.5 : 1;
    const e = Math.exp(k * (Math.cos(t) - 1));
    a0 += w * e;
    a1 += w * e * Math.cos(t);
  }
  return [Math.log(a0 / n) + k, a1 / a0];
}

const KAPPAS = [0, ...Array.from({ length: 121 }, (_, i) => 10 ** (-4 + (8 * i) / 120))];

describe.each(['host', 'tensor'] as const)('special functions (%s mode)', (mode) => {
  beforeAll(async () => {
    await initBackend();
    setSpecialFunctionMode(mode);
  });

  it('the test reference agrees with direct quadrature', () => {
    for (const k of [0.01, 1, 7.9, 8.1, 19.9, 20.1, 100, 1e4]) {
      const [l, r] = reference(k);
      const [li, ri] = integralReference(k);
      expect(Math.abs(l - li)).toBeLessThan(1e-9 * Math.max(1, Math.abs(l)));
      expect(Math.abs(r - ri)).toBeLessThan(1e-9);
    }
  });

  it('logI0 and logI0e match the float64 reference for log-spaced κ in [0, 1e4]', () => {
    const x = tf.tensor1d(KAPPAS);
    const got = logI0(x).dataSync();
    const gotE = logI0e(x).dataSync();
    let worst = 0;
    KAPPAS.forEach((k, i) => {
      const [ref] = reference(k);
      // float32 output: relative 3e-7 of the value, absolute 3e-7 near 0
      const err = Math.abs((got[i] as number) - ref) / (3e-7 * Math.max(Math.abs(ref), 1));
      worst = Math.max(worst, err);
      // scaled version keeps relative precision even where log I0 ≈ κ
      const refE = ref - k;
      expect(Math.abs((gotE[i] as number) - refE)).toBeLessThan(3e-7 * Math.max(Math.abs(refE), 1));
      // plain-number version: float64
      expect(Math.abs(logI0Number(k) - ref)).toBeLessThan(1e-9 * Math.max(Math.abs(ref), 1));
      expect(Math.abs(logI0eNumber(k) - refE)).toBeLessThan(1e-9 * Math.max(Math.abs(refE), 1));
    });
    expect(worst).toBeLessThan(1);
    tf.dispose(x);
  });

  it('I1/I0 matches the reference (relative 5e-7), also 1 − I1/I0 near 1', () => {
    const x = tf.tensor1d(KAPPAS);
    const got = i1OverI0(x).dataSync();
    KAPPAS.forEach((k, i) => {
      const [, r, om] = reference(k);
      expect(Math.abs((got[i] as number) - r)).toBeLessThanOrEqual(5e-7 * r + 1e-30);
      expect(Math.abs(i1OverI0Number(k) - r)).toBeLessThan(1e-9 * r + 1e-300);
      // 1 − r through the scaled gradient of logI0e: d/dκ logI0e = r − 1
      expect(Math.abs(1 - i1OverI0Number(k) - om)).toBeLessThan(1e-8 * om + 1e-16);
    });
    tf.dispose(x);
  });

  it('odd/even symmetry for negative κ', () => {
    const x = tf.tensor1d([-0.5, -3, -50]);
    const l = logI0(x).dataSync();
    const r = i1OverI0(x).dataSync();
    [-0.5, -3, -50].forEach((k, i) => {
      const [ref, rr] = reference(-k);
      expect(Math.abs((l[i] as number) - ref)).toBeLessThan(3e-7 * Math.max(1, ref));
      expect(Math.abs((r[i] as number) + rr)).toBeLessThan(5e-7);
    });
    tf.dispose(x);
  });

  it('d/dκ log I0 = I1/I0 and d/dκ (I1/I0) match central finite differences of the reference', () => {
    const ks = [0, 1e-3, 0.3, 1, 3.7, 7.99, 8.01, 15, 50, 300, 1e4];
    const x = tf.tensor1d(ks);
    const g1 = tf
      .grad((v: tf.Tensor) => tf.sum(logI0(v)))(x)
      .dataSync();
    const g2 = tf
      .grad((v: tf.Tensor) => tf.sum(i1OverI0(v)))(x)
      .dataSync();
    const g3 = tf
      .grad((v: tf.Tensor) => tf.sum(logI0e(v)))(x)
      .dataSync();
    ks.forEach((k, i) => {
      const h = Math.max(1e-4, 1e-4 * k);
      // central FD of the float64 reference (one-sided symmetric at 0: d/dκ log I0 = 0 there)
      const fdLog = k === 0 ? 0 : (reference(k + h)[0] - reference(k - h)[0]) / (2 * h);
      const fdRatio = k === 0 ? 0.5 : (reference(k + h)[1] - reference(k - h)[1]) / (2 * h);
      expect(Math.abs((g1[i] as number) - fdLog)).toBeLessThan(1e-6 * Math.max(1, fdLog));
      // logI0e = log I0 − |κ| has a kink at 0; check it elsewhere
      if (k > 0)
        expect(Math.abs((g3[i] as number) - (fdLog - 1))).toBeLessThan(2e-6 * Math.max(1e-3, 1 - fdLog));
      expect(Math.abs((g2[i] as number) - fdRatio)).toBeLessThan(2e-3 * fdRatio + 1e-7);
      expect(Math.abs(i1OverI0DerivNumber(k) - fdRatio)).toBeLessThan(1e-5 * fdRatio);
    });
    tf.dispose(x);
  });

  it('second derivative of log I0 through the registered gradient of I1/I0', () => {
    const x = tf.tensor1d([0.5, 5, 40]);
    const gg = tf
      .grad((v: tf.Tensor) => tf.sum(tf.grad((w: tf.Tensor) => tf.sum(logI0(w)))(v)))(x)
      .dataSync();
    [0.5, 5, 40].forEach((k, i) => {
      const h = 1e-3 * k;
      const fd = (reference(k + h)[0] - 2 * reference(k)[0] + reference(k - h)[0]) / (h * h);
      expect(Math.abs((gg[i] as number) - fd)).toBeLessThan(1e-3 * Math.abs(fd));
    });
    tf.dispose(x);
  });

  it('no overflow and finite gradients at large κ', () => {
    const x = tf.tensor1d([1e4, 1e6, 1e20]);
    const l = logI0(x).dataSync();
    const g = tf
      .grad((v: tf.Tensor) => tf.sum(logI0(v)))(x)
      .dataSync();
    for (const v of [...l, ...g]) expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs((l[1] as number) - reference(1e6)[0]) / 1e6).toBeLessThan(2e-7);
    tf.dispose(x);
  });

  it('log I0(±∞) = +∞ (not NaN), with I1/I0 → ±1', () => {
    const x = tf.tensor1d([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(Array.from(logI0(x).dataSync())).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
    expect(Array.from(i1OverI0(x).dataSync())).toEqual([1, -1]);
    tf.dispose(x);
  });

  it('1 − I1/I0 keeps relative precision at large κ, with gradient −A′(κ)', () => {
    const ks = [0.5, 7.99, 8.01, 30, 1e3, 1e6, 1e8];
    const x = tf.tensor1d(ks);
    const got = oneMinusI1OverI0(x).dataSync();
    const g = tf
      .grad((v: tf.Tensor) => tf.sum(oneMinusI1OverI0(v)))(x)
      .dataSync();
    ks.forEach((k, i) => {
      const [, , om] = reference(k);
      expect(Math.abs((got[i] as number) - om)).toBeLessThan(5e-7 * om);
      const h = 1e-4 * k;
      const fd = (reference(k + h)[2] - reference(k - h)[2]) / (2 * h);
      expect(Math.abs((g[i] as number) - fd)).toBeLessThan(2e-3 * Math.abs(fd));
    });
    tf.dispose(x);
  });
});

describe.each(['wasm', 'cpu'] as const)('sinStable on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it('matches float64 sin to float32 precision near 0, for both signs, and elsewhere', () => {
    const xs: number[] = [0];
    for (let e = -12; e <= 0.5; e += 0.25) xs.push(10 ** e, -(10 ** e));
    for (let i = 0; i <= 400; i++) xs.push(-3.1 + (6.2 * i) / 400);
    const x = tf.tensor1d(xs);
    const got = sinStable(x).dataSync();
    const xf = x.dataSync();
    for (let i = 0; i < xs.length; i++) {
      const ref = Math.sin(xf[i] as number);
      // |x| ≤ 1.5: relative 2.4e-7 (two float32 ulps; plain tf.sin on wasm is off by 1.7e-7 absolute at
      // x = −1e-8); farther out, 1.2e-7 absolute (near ±π sin is small, the argument is float32).
      const tol = Math.abs(xf[i] as number) <= 1.5 ? 2.4e-7 * Math.abs(ref) : 1.2e-7;
      expect(Math.abs((got[i] as number) - ref)).toBeLessThanOrEqual(tol);
    }
    const g = tf
      .grad((v: tf.Tensor) => tf.sum(sinStable(v)))(x)
      .dataSync();
    for (let i = 0; i < xs.length; i++)
      expect(Math.abs((g[i] as number) - Math.cos(xf[i] as number))).toBeLessThan(3e-7);
    tf.dispose(x);
  });
});
