import { Categorical, Independent, MixtureSameFamily, Normal, Uniform, VonMises } from '@gcvi/distributions';
import { ConfigError, createRng, initBackend, NumericalError, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fd, integrate1d, meanSe, refLogI0 } from './helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
const normRef = (x: number, mu: number, sd: number) =>
  -0.5 * ((x - mu) / sd) ** 2 - Math.log(sd) - 0.5 * LOG_2PI;
const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};

describe('Uniform', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('log density, integral over [low, high], −∞ outside, mean/variance/entropy', () => {
    const d = new Uniform(tf.tensor1d([0, -3]), tf.tensor1d([2 * Math.PI, 5]));
    const lp = d
      .logProb(
        tf.tensor2d([
          [1, 4.9],
          [7, -3.01],
        ]),
      )
      .arraySync() as number[][];
    expectClose(lp[0]![0]!, -Math.log(2 * Math.PI), 1e-6);
    expectClose(lp[0]![1]!, -Math.log(8), 1e-6);
    expect(lp[1]![0]).toBe(Number.NEGATIVE_INFINITY);
    expect(lp[1]![1]).toBe(Number.NEGATIVE_INFINITY);
    const u = new Uniform(-3, 5);
    // midpoint rule over a wider interval: the mass outside [low, high) is zero
    const n = 20000;
    const xs = Array.from({ length: n }, (_, i) => -6 + (12 * (i + 0.5)) / n);
    const v = u.logProb(tf.tensor1d(xs)).dataSync();
    const total = Array.from(v).reduce((a, l) => a + Math.exp(l) * (12 / n), 0);
    expectClose(total, 1, 1e-4);
    expectClose(u.mean().dataSync()[0]!, 1, 1e-7);
    expectClose(u.variance().dataSync()[0]!, 64 / 12, 1e-5);
    expectClose(u.entropy().dataSync()[0]!, Math.log(8), 1e-6);
  });

  it('seeded samples in [low, high) with moments within 4 SE; rsample gradient', () => {
    const d = new Uniform(2, 7);
    const s = d.sample(20000, createRng(2).split('u')).dataSync();
    expect(Array.from(d.sample(5, createRng(2).split('u')).dataSync())).toEqual(Array.from(s.slice(0, 5)));
    for (const x of s) expect(x >= 2 && x < 7).toBe(true);
    const [m, se] = meanSe(s);
    expect(Math.abs(m - 4.5)).toBeLessThan(4 * se);
    const [v, seV] = meanSe(Array.from(s, (x) => (x - 4.5) ** 2));
    expect(Math.abs(v - 25 / 12)).toBeLessThan(4 * seV);
    const [gl, gh] = tf.grads((l: tf.Tensor, h: tf.Tensor) =>
      tf.mean(new Uniform(l, h).rsample(1000, createRng(4))),
    )([tf.scalar(2), tf.scalar(7)]);
    const u = tf.mean(createRng(4).uniformTensor([1000])).dataSync()[0]!;
    expectClose(gl!.dataSync()[0]!, 1 - u, 1e-5);
    expectClose(gh!.dataSync()[0]!, u, 1e-5);
    // d/dlow log p = 1/(high − low), d/dhigh = −1/(high − low)
    const [dl, dh] = tf.grads((l: tf.Tensor, h: tf.Tensor) => new Uniform(l, h).logProb(tf.scalar(3)))([
      tf.scalar(2),
      tf.scalar(7),
    ]);
    expectClose(dl!.dataSync()[0]!, 0.2, 1e-6);
    expectClose(dh!.dataSync()[0]!, -0.2, 1e-6);
  });

  it('bad input names the argument', () => {
    expect(() => new Uniform(1, 1)).toThrow(/high/);
    expect(() => new Uniform(Number.NaN, 1)).toThrow(/low/);
    expect(() => new Uniform(tf.tensor1d([0, 1]), tf.tensor1d([2, 3, 4]))).toThrow(ShapeError);
  });
});

describe('Categorical', () => {
  it('probabilities sum to 1, logProb equals log-softmax, −∞ outside the support', () => {
    const logits = [
      [0.5, -1, 2],
      [10, 10, -30],
    ];
    const d = new Categorical({ logits: tf.tensor2d(logits) });
    expect(d.batchShape).toEqual([2]);
    expect(d.eventShape).toEqual([]);
    const all = d
      .logProb(
        tf.tensor2d(
          [
            [0, 0],
            [1, 1],
            [2, 2],
          ],
          undefined,
          'int32',
        ),
      )
      .arraySync() as number[][];
    logits.forEach((row, b) => {
      const z = logSumExp(row);
      const total = [0, 1, 2].reduce((a, k) => a + Math.exp(all[k]![b]!), 0);
      expectClose(total, 1, 1e-6);
      [0, 1, 2].forEach((k) => {
        expectClose(all[k]![b]!, row[k]! - z, 1e-5);
      });
    });
    const out = d.logProb(tf.tensor1d([3, -1], 'int32')).dataSync();
    expect(out[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(out[1]).toBe(Number.NEGATIVE_INFINITY);
  });

  it('from probs (zeros allowed): entropy, mode, seeded sampling frequencies within 4 SE', () => {
    const p = [0.2, 0, 0.5, 0.3];
    const d = new Categorical({ probs: tf.tensor1d(p) });
    expectClose(d.entropy().dataSync()[0]!, -p.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0), 1e-6);
    expect(d.mode().dataSync()[0]).toBe(2);
    const n = 20000;
    const s = d.sample(n, createRng(9).split('cat')).dataSync();
    expect(Array.from(d.sample(10, createRng(9).split('cat')).dataSync())).toEqual(
      Array.from(s.slice(0, 10)),
    );
    p.forEach((q, k) => {
      const freq = Array.from(s).filter((v) => v === k).length / n;
      const se = Math.sqrt((q * (1 - q)) / n);
      if (q === 0) expect(freq).toBe(0);
      else expect(Math.abs(freq - q)).toBeLessThan(4 * se);
    });
  });

  it('gradient of logProb w.r.t. logits = onehot − softmax (vs central differences)', () => {
    const l = [0.3, -0.7, 1.1];
    const g = tf
      .grad((x: tf.Tensor) => new Categorical({ logits: x }).logProb(tf.scalar(2, 'int32')))(tf.tensor1d(l))
      .dataSync();
    l.forEach((_, k) => {
      const f = (v: number) => {
        const ll = [...l];
        ll[k] = v;
        return ll[2]! - logSumExp(ll);
      };
      expectClose(g[k]!, fd(f, l[k]!), 1e-5);
    });
  });

  it('bad input names the argument', () => {
    expect(() => new Categorical({} as never)).toThrow(ConfigError);
    expect(() => new Categorical({ probs: tf.tensor1d([0.5, -0.1]) })).toThrow(/probs/);
    expect(() => new Categorical({ probs: tf.tensor1d([0, 0]) })).toThrow(/probs/);
    expect(() => new Categorical({ logits: tf.scalar(1) })).toThrow(/logits/);
    expect(() => new Categorical({ logits: tf.tensor1d([1, Number.NaN]) })).toThrow(NumericalError);
  });
});

describe('MixtureSameFamily', () => {
  const w = [0.2, 0.5, 0.3];
  const mus = [-2, 0.5, 4];
  const sds = [0.5, 1, 0.3];
  const mixRef = (x: number) => logSumExp(w.map((wk, k) => Math.log(wk) + normRef(x, mus[k]!, sds[k]!)));

  it('Gaussian mixture: logProb vs float64 reference, integrates to 1, mean, seeded sample moments', () => {
    const d = new MixtureSameFamily(
      new Categorical({ probs: tf.tensor1d(w) }),
      new Normal(tf.tensor1d(mus), tf.tensor1d(sds)),
    );
    expect(d.batchShape).toEqual([]);
    const lp = d.logProb(tf.tensor1d([-2, 0, 3.9])).dataSync();
    [-2, 0, 3.9].forEach((x, i) => {
      expectClose(lp[i]!, mixRef(x), 1e-5);
    });
    expectClose(
      integrate1d((x) => d.logProb(x), -10, 10, 40000),
      1,
      1e-5,
    );
    const mean = w.reduce((a, wk, k) => a + wk * mus[k]!, 0);
    expectClose(d.mean().dataSync()[0]!, mean, 1e-6);
    const s = d.sample(20000, createRng(21).split('mix')).dataSync();
    const [m, se] = meanSe(s);
    expect(Math.abs(m - mean)).toBeLessThan(4 * se);
  });

  it('von Mises mixture on the circle integrates to 1; batched mixture shapes', () => {
    const d = new MixtureSameFamily(
      new Categorical({
        logits: tf.tensor2d([
          [0, 1],
          [2, -1],
        ]),
      }),
      new VonMises(
        tf.tensor2d([
          [0, 2],
          [-1, 3],
        ]),
        tf.tensor2d([
          [4, 0.5],
          [50, 1],
        ]),
      ),
    );
    expect(d.batchShape).toEqual([2]);
    const ints = [0, 1].map((b) =>
      integrate1d(
        (x) => tf.gather(d.logProb(tf.tile(tf.reshape(x, [-1, 1]), [1, 2])), b, 1),
        -Math.PI,
        Math.PI,
        20000,
      ),
    );
    for (const v of ints) expectClose(v, 1, 1e-5);
    // second batch member against a float64 reference
    const lw = [2, -1].map((l) => l - logSumExp([2, -1]));
    const ref = (t: number) =>
      logSumExp([lw[0]! + 50 * Math.cos(t + 1) - refLogI0(50), lw[1]! + Math.cos(t - 3) - refLogI0(1)]) -
      LOG_2PI;
    const got = d.logProb(tf.tensor2d([[0.3, -0.9]])).dataSync();
    expectClose(got[1]!, ref(-0.9), 1e-4);
    expect(d.sample(7, createRng(1)).shape).toEqual([7, 2]);
  });

  it('gradients w.r.t. mixture logits and component locations match central differences', () => {
    const x = 0.2;
    const [gl, gm] = tf.grads((l: tf.Tensor, m: tf.Tensor) =>
      new MixtureSameFamily(new Categorical({ logits: l }), new Normal(m, tf.tensor1d(sds))).logProb(
        tf.scalar(x),
      ),
    )([tf.tensor1d(w.map(Math.log)), tf.tensor1d(mus)]);
    const glv = gl!.dataSync();
    const gmv = gm!.dataSync();
    for (let k = 0; k < 3; k++) {
      const fl = (v: number) => {
        const l = w.map(Math.log);
        l[k] = v;
        const z = logSumExp(l);
        return logSumExp(l.map((lk, j) => lk - z + normRef(x, mus[j]!, sds[j]!)));
      };
      const fm = (v: number) => {
        const m = [...mus];
        m[k] = v;
        return logSumExp(w.map((wk, j) => Math.log(wk) + normRef(x, m[j]!, sds[j]!)));
      };
      expectClose(glv[k]!, fd(fl, Math.log(w[k]!)), 1e-5);
      expectClose(gmv[k]!, fd(fm, mus[k]!), 1e-4);
    }
  });

  it('mismatched shapes are errors naming the argument', () => {
    expect(
      () => new MixtureSameFamily(new Categorical({ logits: tf.zeros([2]) }), new Normal(tf.zeros([3]), 1)),
    ).toThrow(/components/);
    expect(
      () =>
        new MixtureSameFamily(new Categorical({ logits: tf.zeros([4, 3]) }), new Normal(tf.zeros([2, 3]), 1)),
    ).toThrow(/mixture/);
  });
});

describe('Independent', () => {
  it('2-D diagonal Gaussian: shapes, logProb = sum, integrates to 1 on a grid, entropy = sum', () => {
    const base = new Normal(tf.tensor2d([[0, 1]]), tf.tensor2d([[1, 0.5]]));
    const d = new Independent(base, 1);
    expect(d.batchShape).toEqual([1]);
    expect(d.eventShape).toEqual([2]);
    const n = 400;
    const xs: number[][] = [];
    const h1 = 12 / n;
    const h2 = 6 / n;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) xs.push([-6 + (i + 0.5) * h1, -2 + (j + 0.5) * h2]);
    const lp = d.logProb(tf.reshape(tf.tensor2d(xs), [n * n, 1, 2]));
    expect(lp.shape).toEqual([n * n, 1]);
    const total = Array.from(lp.dataSync()).reduce((a, l) => a + Math.exp(l) * h1 * h2, 0);
    expectClose(total, 1, 1e-4);
    expectClose(
      lp.dataSync()[0]!,
      normRef(xs[0]![0]!, 0, 1) + normRef(xs[0]![1]!, 1, 0.5),
      1e-4 * Math.abs(lp.dataSync()[0]!),
    );
    expectClose(d.entropy().dataSync()[0]!, 0.5 * (2 + 2 * LOG_2PI) + Math.log(0.5), 1e-5);
    expect(d.sample(5, createRng(1)).shape).toEqual([5, 1, 2]);
    expect(d.rsample?.(5, createRng(1)).shape).toEqual([5, 1, 2]);
    expect(Array.from(d.mean().dataSync())).toEqual([0, 1]);
  });

  it('variance: the base variance per component ([...batch, ...event]); mean; no closed form → clear error', () => {
    const d = new Independent(new Normal(tf.tensor2d([[0, 1, -2]]), tf.tensor2d([[1, 0.5, 3]])), 1);
    expect(d.variance().shape).toEqual([1, 3]);
    expect(Array.from(d.variance().dataSync())).toEqual([1, 0.25, 9]);
    expect(Array.from(d.mean().dataSync())).toEqual([0, 1, -2]);
    // sample variance of the draws within 4 standard errors (var of s² ≈ 2σ⁴/n)
    const n = 20000;
    const s = d.sample(n, createRng(4)).dataSync();
    [1, 0.25, 9].forEach((v, j) => {
      let m = 0;
      let m2 = 0;
      for (let i = 0; i < n; i++) {
        const x = s[3 * i + j]!;
        m += x / n;
        m2 += (x * x) / n;
      }
      expect(Math.abs(m2 - m * m - v)).toBeLessThan(4 * Math.sqrt((2 * v * v) / n));
    });
    expect(() => new Independent(new VonMises(tf.zeros([2]), 1), 1).variance()).toThrow(
      /variance is not defined/,
    );
  });

  it('reinterpretedBatchNdims out of range names the field', () => {
    expect(() => new Independent(new Normal(tf.zeros([2]), 1), 2)).toThrow(/reinterpretedBatchNdims/);
    expect(() => new Independent(new Normal(0, 1), -1)).toThrow(ConfigError);
    expect(new Independent(new VonMises(0, 1), 0).rsample).toBeUndefined();
  });
});
