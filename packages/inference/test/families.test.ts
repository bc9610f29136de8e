import {
  type Family,
  familyFromSpec,
  gaussianDiag,
  gaussianFull,
  gaussianMixture,
  productFamily,
  registerFamily,
  vonMisesFamily,
} from '@gcvi/inference';
import { ConfigError, createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await initBackend();
});

const LOG_2PI = Math.log(2 * Math.PI);
const softplus = (u: number) => Math.log1p(Math.exp(u));

/** log I0 in float64 by its power series (fine for κ ≤ 30). */
function logI0(k: number): number {
  const y = (k * k) / 4;
  let t = 1;
  let s = 1;
  for (let m = 1; m < 200; m++) {
    t *= y / (m * m);
    s += t;
    if (t < 1e-17 * s) break;
  }
  return Math.log(s);
}

function expectClose(got: number, want: number, tol: number, what: string): void {
  if (!(Math.abs(got - want) <= tol)) throw new Error(`${what}: got ${got}, want ${want} (tol ${tol})`);
}

const rowsOf = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

describe('families: log-densities against float64 closed forms', () => {
  it('gaussian-diag: η1 = μ/σ², η2 = −softplus(u) − minPrecision/2', () => {
    const f = gaussianDiag({ dim: 2 });
    expect(f.exponentialFamily).toBe(true);
    const eta = [
      [0.3, -1.2, 0.5, -2.0],
      [2.0, 0.0, -1.0, 3.0],
    ];
    const theta = [
      [0.1, -0.4],
      [1.5, 0.2],
    ];
    const q = f.distribution(tf.tensor2d(eta), {});
    const lp = q.logProb(tf.tensor2d(theta)).dataSync();
    const mean = rowsOf(q.mean());
    eta.forEach((e, b) => {
      let want = 0;
      for (let j = 0; j < 2; j++) {
        const eta2 = -softplus(e[2 + j] as number) - 0.5e-6;
        const v = -1 / (2 * eta2);
        const mu = (e[j] as number) * v;
        expectClose(mean[b]![j] as number, mu, 1e-5 * Math.max(1, Math.abs(mu)), `mean ${b}${j}`);
        want += (-0.5 * ((theta[b]![j] as number) - mu) ** 2) / v - 0.5 * Math.log(v) - 0.5 * LOG_2PI;
      }
      expectClose(lp[b] as number, want, 1e-5 * Math.max(1, Math.abs(want)), `logProb ${b}`);
    });
    q.dispose();
  });

  it('gaussian-full: η1 and the row-wise lower triangle of the precision factor (softplus diagonal)', () => {
    const f = gaussianFull({ dim: 2 });
    expect(f.outputSize).toBe(5);
    const e = [0.4, -0.7, 0.2, 0.9, -0.5]; // η1 (2), L00 raw, L10, L11 raw
    const q = f.distribution(tf.tensor2d([e]), {});
    const l00 = softplus(0.2) + 1e-3;
    const l10 = 0.9;
    const l11 = softplus(-0.5) + 1e-3;
    // Λ = L Lᵀ
    const P = [
      [l00 * l00, l00 * l10],
      [l00 * l10, l10 * l10 + l11 * l11],
    ];
    const det = P[0]![0]! * P[1]![1]! - P[0]![1]! * P[1]![0]!;
    const C = [
      [P[1]![1]! / det, -P[0]![1]! / det],
      [-P[1]![0]! / det, P[0]![0]! / det],
    ];
    const mu = [C[0]![0]! * e[0]! + C[0]![1]! * e[1]!, C[1]![0]! * e[0]! + C[1]![1]! * e[1]!];
    for (const th of [
      [0, 0],
      [1.2, -0.3],
      [-2, 2],
    ]) {
      const d0 = th[0]! - mu[0]!;
      const d1 = th[1]! - mu[1]!;
      const quad = d0 * d0 * P[0]![0]! + 2 * d0 * d1 * P[0]![1]! + d1 * d1 * P[1]![1]!;
      const want = -0.5 * quad + 0.5 * Math.log(det) - LOG_2PI;
      const got = q.logProb(tf.tensor2d([th])).dataSync()[0] as number;
      expectClose(got, want, 1e-5 * Math.max(1, Math.abs(want)), `logProb at ${th}`);
    }
    const m = q.mean().dataSync();
    expectClose(m[0] as number, mu[0]!, 1e-5, 'mean 0');
    expectClose(m[1] as number, mu[1]!, 1e-5, 'mean 1');
    // sampling: moments of 20,000 draws
    const n = 20000;
    const s = q.sample(n, createRng(2)).dataSync();
    const sm = [0, 0];
    for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) sm[j]! += (s[i * 2 + j] as number) / n;
    let c01 = 0;
    for (let i = 0; i < n; i++) c01 += ((s[i * 2] as number) - sm[0]!) * ((s[i * 2 + 1] as number) - sm[1]!);
    c01 /= n - 1;
    expectClose(sm[0]!, mu[0]!, 5 * Math.sqrt(C[0]![0]! / n), 'sample mean 0');
    expectClose(sm[1]!, mu[1]!, 5 * Math.sqrt(C[1]![1]! / n), 'sample mean 1');
    expectClose(c01, C[0]![1]!, 5 * Math.sqrt((C[0]![0]! * C[1]![1]! + C[0]![1]! ** 2) / n), 'sample cov');
    q.dispose();
  });

  it('von-mises: η·(cos θ, sin θ) − log(2π I0(‖η‖)), periodic; samples match the mean resultant', () => {
    const f = vonMisesFamily({ dim: 1 });
    expect(f.circular).toEqual([true]);
    const eta = [2.0, -1.5];
    const k = Math.hypot(eta[0]!, eta[1]!);
    const q = f.distribution(tf.tensor2d([eta]), {});
    for (const th of [0, 1, -2.5, 3.1, 3.1 + 2 * Math.PI]) {
      const want = eta[0]! * Math.cos(th) + eta[1]! * Math.sin(th) - logI0(k) - LOG_2PI;
      const got = q.logProb(tf.tensor2d([[th]])).dataSync()[0] as number;
      expectClose(got, want, 2e-5 * Math.max(1, Math.abs(want)), `logProb at ${th}`);
    }
    const n = 20000;
    const s = q.sample(n, createRng(3)).dataSync();
    let c = 0;
    let sn = 0;
    let inRange = true;
    for (let i = 0; i < n; i++) {
      const a = s[i] as number;
      if (!(a >= -Math.PI && a < Math.PI)) inRange = false;
      c += Math.cos(a) / n;
      sn += Math.sin(a) / n;
    }
    expect(inRange).toBe(true);
    // E(cos θ, sin θ) = I1(κ)/I0(κ) (cos μ, sin μ); I1/I0 by the derivative of log I0 (float64)
    const h = 1e-5;
    const r = (logI0(k + h) - logI0(k - h)) / (2 * h);
    expectClose(c, (r * eta[0]!) / k, 0.01, 'E cos');
    expectClose(sn, (r * eta[1]!) / k, 0.01, 'E sin');
    expectClose(q.mean().dataSync()[0] as number, Math.atan2(eta[1]!, eta[0]!), 1e-6, 'circular mean');
    q.dispose();
  });

  it('product: an angle and a real vector; log-density is the sum, circular flags follow the factors', () => {
    const f = productFamily([vonMisesFamily(), gaussianDiag({ dim: 2 })]);
    expect(f.dim).toBe(3);
    expect(f.outputSize).toBe(6);
    expect(f.circular).toEqual([true, false, false]);
    expect(f.exponentialFamily).toBe(true);
    const e = [[1, 0.5, 0.2, -0.1, 0.3, 0.4]];
    const th = [[0.7, -0.2, 1.1]];
    const q = f.distribution(tf.tensor2d(e), {});
    const a = vonMisesFamily().distribution(tf.tensor2d([[1, 0.5]]), {});
    const b = gaussianDiag({ dim: 2 }).distribution(tf.tensor2d([[0.2, -0.1, 0.3, 0.4]]), {});
    const want =
      (a.logProb(tf.tensor2d([[0.7]])).dataSync()[0] as number) +
      (b.logProb(tf.tensor2d([[-0.2, 1.1]])).dataSync()[0] as number);
    expectClose(q.logProb(tf.tensor2d(th)).dataSync()[0] as number, want, 1e-5, 'sum');
    expect(q.sample(7, createRng(1)).shape).toEqual([7, 1, 3]);
    expect(q.mean().shape).toEqual([1, 3]);
    for (const d of [q, a, b]) d.dispose();
  });

  it('gaussian-mixture: log Σ_k π_k N(θ; μ_k + offset_k, σ_k²); moments of draws; not an exponential family', () => {
    const f = gaussianMixture({ dim: 1, components: 2 });
    expect(f.exponentialFamily).toBe(false);
    const params = { locOffset: tf.tensor2d([[-2], [1.5]]) };
    const e = [0.3, -0.2, 0.1, 0.4, -0.5, 0.8]; // logits (2), means (2), scale raw (2)
    const q = f.distribution(tf.tensor2d([e]), params);
    const w0 = Math.exp(0.3) / (Math.exp(0.3) + Math.exp(-0.2));
    const w = [w0, 1 - w0];
    const mu = [0.1 - 2, 0.4 + 1.5];
    const sd = [softplus(-0.5) + 1e-3, softplus(0.8) + 1e-3];
    for (const th of [-2, 0, 1.7, 4]) {
      let p = 0;
      for (let k = 0; k < 2; k++)
        p += (w[k]! * Math.exp(-0.5 * ((th - mu[k]!) / sd[k]!) ** 2)) / (sd[k]! * Math.sqrt(2 * Math.PI));
      expectClose(
        q.logProb(tf.tensor2d([[th]])).dataSync()[0] as number,
        Math.log(p),
        1e-5,
        `logProb at ${th}`,
      );
    }
    const m1 = w[0]! * mu[0]! + w[1]! * mu[1]!;
    const m2 = w[0]! * (mu[0]! ** 2 + sd[0]! ** 2) + w[1]! * (mu[1]! ** 2 + sd[1]! ** 2);
    expectClose(q.mean().dataSync()[0] as number, m1, 1e-5, 'mean');
    const n = 20000;
    const s = q.sample(n, createRng(4)).dataSync();
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      a += (s[i] as number) / n;
      b += (s[i] as number) ** 2 / n;
    }
    const v = m2 - m1 * m1;
    expectClose(a, m1, 5 * Math.sqrt(v / n), 'sample mean');
    expectClose(b, m2, 0.05 * m2, 'sample second moment');
    // the mode is the component mean of highest mixture density
    const dens = (th: number) =>
      w.reduce((acc, wk, k) => acc + (wk * Math.exp(-0.5 * ((th - mu[k]!) / sd[k]!) ** 2)) / sd[k]!, 0);
    const want = dens(mu[0]!) > dens(mu[1]!) ? mu[0]! : mu[1]!;
    expectClose(q.mode().dataSync()[0] as number, want, 1e-5, 'mode');
    q.dispose();
    params.locOffset.dispose();
  });
});

describe('families: constraints keep a gradient from a zero-initialized last layer', () => {
  const families: [string, Family][] = [
    ['gaussian-diag', gaussianDiag({ dim: 2 })],
    ['gaussian-full', gaussianFull({ dim: 2 })],
    ['von-mises', vonMisesFamily({ dim: 2 })],
    ['product', productFamily([vonMisesFamily(), gaussianDiag({ dim: 1 })])],
    ['gaussian-mixture', gaussianMixture({ dim: 2, components: 3 })],
  ];
  for (const [name, f] of families) {
    it(`${name}: every encoder output gets a non-zero, finite gradient of L_P at η = 0`, () => {
      const params = f.initParams(createRng(7));
      const theta = createRng(8).normalTensor([16, f.dim]);
      const g = tf.grad((eta: tf.Tensor) => {
        const q = f.distribution(eta, params);
        try {
          return tf.neg(tf.mean(q.logProb(theta)));
        } finally {
          q.dispose();
        }
      })(tf.zeros([16, f.outputSize]));
      const gv = g.arraySync() as number[][];
      for (let c = 0; c < f.outputSize; c++) {
        const col = gv.map((r) => r[c] as number);
        expect(col.every(Number.isFinite), `${name} column ${c} finite`).toBe(true);
        expect(
          col.some((v) => Math.abs(v) > 1e-6),
          `${name} column ${c} has a gradient`,
        ).toBe(true);
      }
      tf.dispose([theta, g, ...Object.values(params)]);
    });
  }
});

describe('family specs', () => {
  it('every family round-trips through familyFromSpec', () => {
    const fams = [
      gaussianDiag({ dim: 3, minPrecision: 1e-4 }),
      gaussianFull({ dim: 2 }),
      vonMisesFamily({ dim: 2 }),
      productFamily([vonMisesFamily(), gaussianFull({ dim: 2 })]),
      gaussianMixture({ dim: 2, components: 4 }),
    ];
    for (const f of fams) {
      const g = familyFromSpec(JSON.parse(JSON.stringify(f.spec)));
      expect(g.spec).toEqual(f.spec);
      expect([g.dim, g.outputSize, g.exponentialFamily]).toEqual([f.dim, f.outputSize, f.exponentialFamily]);
    }
  });

  it('unknown kinds and conflicting registrations are clear errors; new kinds can be registered', () => {
    expect(() => familyFromSpec({ kind: 'nope' })).toThrow(/unknown family kind 'nope'/);
    expect(() => registerFamily('gaussian-diag', () => gaussianDiag({ dim: 1 }))).toThrow(ConfigError);
    const builder = () => gaussianDiag({ dim: 1 });
    registerFamily('test-family', builder);
    registerFamily('test-family', builder);
    expect(familyFromSpec({ kind: 'test-family' }).dim).toBe(1);
    expect(() => gaussianDiag({ dim: 0 })).toThrow(/gaussianDiag.dim/);
  });
});
