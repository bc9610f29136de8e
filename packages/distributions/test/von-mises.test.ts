import {
  i1OverI0Number,
  setSpecialFunctionMode,
  VonMises,
  vonMisesLogPartition,
  vonMisesMeanToNatural,
  vonMisesNaturalToMean,
} from '@gcvi/distributions';
import { createRng, initBackend, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fd, integrate1d, meanSe, refLogI0 } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** Float64 reference log-density in (μ, κ) and in η. */
const ref = (t: number, mu: number, k: number) => k * Math.cos(t - mu) - LOG_2PI - refLogI0(k);
const refNat = (t: number, e1: number, e2: number) =>
  e1 * Math.cos(t) + e2 * Math.sin(t) - LOG_2PI - refLogI0(Math.hypot(e1, e2));
/** Reference I1/I0 by quadrature: ∫cos t e^{κ(cos t−1)} / ∫e^{κ(cos t−1)} over [0, π]. */
function refRatio(k: number): number {
  const n = 20000;
  let a0 = 0;
  let a1 = 0;
  for (let i = 0; i <= n; i++) {
    const t = (Math.PI * i) / n;
    const w = (i === 0 || i === n ? 0.5 : 1) * Math.exp(k * (Math.cos(t) - 1));
    a0 += w;
    a1 += w * Math.cos(t);
  }
  return a1 / a0;
}

describe.each(['host', 'tensor'] as const)('VonMises (%s mode)', (mode) => {
  beforeAll(async () => {
    await initBackend();
    setSpecialFunctionMode(mode);
  });

  it('logProb matches the float64 formula, both parameterizations (abs 2e-6·max(1, κ))', () => {
    const mus = [0.3, -2, 3];
    const ks = [0.01, 2, 500];
    const d = new VonMises(tf.tensor1d(mus), tf.tensor1d(ks));
    const eta = tf.tensor2d(mus.map((m, i) => [ks[i]! * Math.cos(m), ks[i]! * Math.sin(m)]));
    const dn = VonMises.fromNatural(eta);
    for (const t of [0.31, -1.5, 2.9]) {
      const a = d.logProb(tf.scalar(t)).dataSync();
      const b = dn.logProb(tf.scalar(t)).dataSync();
      mus.forEach((m, i) => {
        const want = ref(t, m, ks[i]!);
        const tol = 2e-6 * Math.max(1, ks[i]!);
        expectClose(a[i]!, want, tol, `loc/conc κ=${ks[i]}`);
        expectClose(b[i]!, want, tol, `natural κ=${ks[i]}`);
      });
    }
  });

  it('fromNatural: logProb at values of the batch shape (no broadcast) equals the broadcast path and the formula; loc/κ on demand', () => {
    const mus = [0.3, -2, 3];
    const ks = [0.01, 2, 500];
    const ts = [0.31, -1.5, 2.9];
    const eta = tf.tensor2d(mus.map((m, i) => [ks[i]! * Math.cos(m), ks[i]! * Math.sin(m)]));
    const dn = VonMises.fromNatural(eta);
    const direct = dn.logProb(tf.tensor1d(ts)).dataSync(); // η [3, 2], value [3]: the direct path
    const viaBroadcast = dn.logProb(tf.tensor2d([ts], [1, 3])).dataSync(); // value [1, 3]: broadcast
    ts.forEach((t, i) => {
      expect(direct[i]).toBe(viaBroadcast[i]);
      expectClose(direct[i]!, ref(t, mus[i]!, ks[i]!), 2e-6 * Math.max(1, ks[i]!), `κ=${ks[i]}`);
    });
    // loc and concentration are derived on first read, again after a tidy scope freed them.
    const before = tf.memory().numTensors;
    const locs = tf.tidy(() => dn.loc.dataSync().slice());
    expect(tf.memory().numTensors).toBe(before);
    const conc = Array.from(dn.concentration.dataSync());
    mus.forEach((m, i) => {
      expectClose(locs[i]!, m, 1e-6, 'loc');
      expectClose(conc[i]!, ks[i]!, 1e-6 * ks[i]!, 'concentration');
    });
    expect(dn.batchShape).toEqual([3]);
    expect(tf.memory().numTensors).toBe(before + 2); // μ and κ, read outside a tidy: the distribution's
    dn.dispose();
    expect(tf.memory().numTensors).toBe(before); // freed by dispose (η stays the caller's)
  });

  it('integrates to 1 over the circle for several (μ, κ), both parameterizations', () => {
    for (const [m, k, tol] of [
      [0, 0, 1e-6],
      [1, 0.01, 1e-6],
      [-2, 1, 1e-6],
      [3, 30, 1e-5],
      [0.5, 500, 1e-4],
      [0.5, 1e4, 1e-3],
    ] as const) {
      const d = new VonMises(m, k);
      expectClose(
        integrate1d((x) => d.logProb(x), -Math.PI, Math.PI, 40000),
        1,
        tol,
        `VM(${m}, ${k})`,
      );
      const dn = VonMises.fromNatural(tf.tensor1d([k * Math.cos(m), k * Math.sin(m)]));
      expectClose(
        integrate1d((x) => dn.logProb(x), -Math.PI, Math.PI, 40000),
        1,
        tol,
        `VM nat (${m}, ${k})`,
      );
    }
  });

  it('gradients of logProb w.r.t. (loc, concentration) and η match central differences', () => {
    for (const [t, m, k] of [
      [0.2, 1, 0.5],
      [-2.5, 0.1, 8],
      [1.1, 1, 200],
    ] as const) {
      const [gm, gk] = tf
        .grads((a: tf.Tensor, b: tf.Tensor) => new VonMises(a, b).logProb(tf.scalar(t)))([
          tf.scalar(m),
          tf.scalar(k),
        ])
        .map((g) => g.dataSync()[0]!);
      const wm = fd((v) => ref(t, v, k), m);
      const wk = fd((v) => ref(t, m, v), k, 1e-5 * k);
      expectClose(gm!, wm, 1e-4 * Math.max(1, Math.abs(wm)), 'd/dloc');
      expectClose(gk!, wk, 1e-4 * Math.max(1, Math.abs(wk)), 'd/dconcentration');
    }
    for (const [t, e1, e2] of [
      [0.4, 1, -0.5],
      [2, 1e-4, 1e-4],
      [-1, 0.3, 0.9],
      [3, -40, 25],
      [0.1, 300, 10],
    ] as const) {
      const g = tf
        .grad((e: tf.Tensor) => VonMises.fromNatural(e).logProb(tf.scalar(t)))(tf.tensor1d([e1, e2]))
        .dataSync();
      const w1 = fd((v) => refNat(t, v, e2), e1, 1e-6);
      const w2 = fd((v) => refNat(t, e1, v), e2, 1e-6);
      expectClose(g[0]!, w1, 2e-4 * Math.max(1, Math.abs(w1)), `d/deta1 at ${e1},${e2}`);
      expectClose(g[1]!, w2, 2e-4 * Math.max(1, Math.abs(w2)), `d/deta2 at ${e1},${e2}`);
    }
  });

  it('η = 0 exactly: logProb = −log 2π with finite gradient (cos θ, sin θ)', () => {
    const t = 0.7;
    const eta = tf.zeros([2]);
    expectClose(VonMises.fromNatural(eta).logProb(tf.scalar(t)).dataSync()[0]!, -LOG_2PI, 1e-6);
    const g = tf
      .grad((e: tf.Tensor) => VonMises.fromNatural(e).logProb(tf.scalar(t)))(eta)
      .dataSync();
    expectClose(g[0]!, Math.cos(t), 1e-6);
    expectClose(g[1]!, Math.sin(t), 1e-6);
  });

  it('exponential family: E[T] matches quadrature, ∇A = E[T], natural ↔ mean round-trips', () => {
    const ks = [0.01, 1, 10, 500];
    const mu = 0.8;
    const eta = tf.tensor2d(ks.map((k) => [k * Math.cos(mu), k * Math.sin(mu)]));
    const m = vonMisesNaturalToMean(eta).arraySync() as number[][];
    ks.forEach((k, i) => {
      const r = refRatio(k);
      expectClose(m[i]![0]!, r * Math.cos(mu), 2e-6);
      expectClose(m[i]![1]!, r * Math.sin(mu), 2e-6);
    });
    const gradA = tf
      .grad((e: tf.Tensor) => tf.sum(vonMisesLogPartition(e)))(eta)
      .arraySync() as number[][];
    gradA.forEach((row, i) => {
      expectClose(row[0]!, m[i]![0]!, 2e-6);
      expectClose(row[1]!, m[i]![1]!, 2e-6);
    });
    const d = new VonMises(mu, tf.tensor1d(ks));
    const viaClass = d.meanParameters().dataSync();
    (m.flat() as number[]).forEach((v, i) => {
      expectClose(viaClass[i]!, v, 2e-6);
    });
    expectClose(d.logPartition().dataSync()[1]!, LOG_2PI + refLogI0(1), 1e-6);
    // round trip: mean → natural → mean (float64 host inversion), and natural → mean → natural
    const back = vonMisesMeanToNatural(vonMisesNaturalToMean(eta)).arraySync() as number[][];
    ks.forEach((k, i) => {
      const tol = k > 100 ? 2e-3 * k : 1e-4 * Math.max(1, k);
      expectClose(Math.hypot(back[i]![0]!, back[i]![1]!), k, tol, `κ=${k}`);
      expectClose(Math.atan2(back[i]![1]!, back[i]![0]!), mu, 1e-5);
    });
    const d2 = VonMises.fromMeanParameters(tf.tensor1d([0.3, 0.4]));
    expectClose(i1OverI0Number(d2.concentration.dataSync()[0]!), 0.5, 1e-6);
    expect(() => vonMisesMeanToNatural(tf.tensor1d([0.9, 0.9]))).toThrow(/m:/);
  });

  it('sampling (Best–Fisher): seeded; circular mean and mean resultant length within 4 SE', () => {
    const mus = [1, -2.5, 0.3, 3];
    const ks = [0.01, 1, 20, 500];
    const n = 40000;
    const d = new VonMises(tf.tensor1d(mus), tf.tensor1d(ks));
    const s = d.sample(n, createRng(11).split('vm'));
    expect(s.shape).toEqual([n, 4]);
    const s2 = d.sample(n, createRng(11).split('vm'));
    expect(Array.from(s2.dataSync().slice(0, 200))).toEqual(Array.from(s.dataSync().slice(0, 200)));
    const data = s.dataSync();
    ks.forEach((k, j) => {
      const mu = mus[j]!;
      const c = new Float64Array(n);
      const sn = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const t = data[i * 4 + j]!;
        expect(t >= -Math.PI && t < Math.PI).toBe(true);
        c[i] = Math.cos(t - mu);
        sn[i] = Math.sin(t - mu);
      }
      const r = refRatio(k);
      // mean resultant length along μ: E cos(θ − μ) = I1/I0; and E sin(θ − μ) = 0
      const [mc, sec] = meanSe(c);
      const [ms, ses] = meanSe(sn);
      expect(Math.abs(mc - r)).toBeLessThan(4 * sec);
      expect(Math.abs(ms)).toBeLessThan(4 * ses);
      // circular mean: atan2 of the resultant; delta-method SE = se(sin)/R
      if (k >= 1) {
        const circMean = Math.atan2(ms, mc);
        expect(Math.abs(circMean)).toBeLessThan((4 * ses) / r);
      }
    });
  });

  it('κ = 0 samples uniformly; entropy matches −∫ p log p', () => {
    const s = new VonMises(0, 0).sample(20000, createRng(5)).dataSync();
    const [m, se] = meanSe(s);
    expect(Math.abs(m)).toBeLessThan(4 * se);
    for (const k of [0, 0.5, 50]) {
      const n = 40000;
      let h = 0;
      for (let i = 0; i <= n; i++) {
        const t = -Math.PI + (2 * Math.PI * i) / n;
        const lp = ref(t, 0, k);
        h -= (i === 0 || i === n ? 0.5 : 1) * Math.exp(lp) * lp * ((2 * Math.PI) / n);
      }
      expectClose(new VonMises(0, k).entropy().dataSync()[0]!, h, 1e-5 * Math.max(1, Math.abs(h)));
    }
  });

  it('entropy at large κ matches the float64 asymptotic ½ log(2π/κ) + ½ + 1/(4κ) + 3/(16κ²)', () => {
    // Reference: log 2π + log I0e(κ) + κ(1 − I1/I0) expanded in 1/κ (error O(κ⁻³) < 1e-9 for κ ≥ 1e3);
    // checked against the quadrature −∫ p log p at κ = 1e3 first.
    const asym = (k: number) => 0.5 * Math.log((2 * Math.PI) / k) + 0.5 + 1 / (4 * k) + 3 / (16 * k * k);
    const n = 200000;
    let h = 0;
    for (let i = 0; i <= n; i++) {
      const t = -Math.PI + (2 * Math.PI * i) / n;
      const lp = ref(t, 0, 1e3);
      h -= (i === 0 || i === n ? 0.5 : 1) * Math.exp(lp) * lp * ((2 * Math.PI) / n);
    }
    expectClose(asym(1e3), h, 1e-8, 'asymptotic reference vs quadrature at κ = 1e3');
    const ks = [1e3, 1e4, 1e6, 1e8];
    const got = new VonMises(0, tf.tensor1d(ks)).entropy().dataSync();
    ks.forEach((k, i) => {
      // float32 output: a few ulps of |H| ≤ 9
      expectClose(got[i]!, asym(k), 2e-6, `H at κ = ${k}`);
    });
  });

  it('bad input names the argument', () => {
    expect(() => new VonMises(0, -1)).toThrow(/concentration/);
    expect(() => new VonMises(Number.NaN, 1)).toThrow(/loc/);
    expect(() => new VonMises(tf.tensor1d([0, 1]), tf.tensor1d([1, 1, 1]))).toThrow(ShapeError);
    expect(() => VonMises.fromNatural(tf.tensor1d([1, 2, 3]))).toThrow(/eta/);
    expect(() => VonMises.fromNatural(tf.tensor1d([1, Number.NaN]))).toThrow(NumericalError);
    expect(() => new VonMises(0, 1).sample(-1, createRng(1))).toThrow(/\bn\b/);
  });
});

describe.each(['tensor', 'host'] as const)('VonMises.fromNatural on wasm at κ = 1e6 (%s mode)', (mode) => {
  let prev: ReturnType<typeof setSpecialFunctionMode>;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    prev = setSpecialFunctionMode(mode);
    return () => {
      setSpecialFunctionMode(prev);
    };
  });

  it('logProb near the mode, both signs of θ, matches the float64 reference (abs 1e-5)', () => {
    const k = 1e6;
    // θ within a few standard deviations (1/√κ = 1e-3) of μ = 0, and tiny angles where wasm's sin
    // is wrong (sin(−1e-8) = +1.7e-7 there).
    const base = [0, 1e-8, 1e-6, 1e-5, 1e-4, 5e-4, 1e-3, 2e-3, 3e-3];
    const thetas = new Float32Array([...base, ...base.slice(1).map((t) => -t)]);
    const got = tf.tidy(() =>
      VonMises.fromNatural(tf.tensor1d([k, 0]))
        .logProb(tf.tensor1d(thetas))
        .dataSync(),
    );
    const logI0e = refLogI0(k) - k;
    thetas.forEach((t, i) => {
      const s = Math.sin(t / 2);
      const want = -2 * k * s * s - logI0e - LOG_2PI; // κ cos θ − log(2π I0(κ)), no cancellation
      expectClose(got[i]!, want, 1e-5, `θ = ${t}`);
    });
  });
});
