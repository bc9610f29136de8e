import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dense, jvp, jvpByDoubleVjp, jvpDense, linearize, type NamedTensors } from '../src/index.js';
import { addScaled, denseRef, maxAbs, maxAbsDiff, toMat } from './ref.js';

beforeAll(async () => {
  await initBackend();
});

/** Random (nonzero last layer) parameters, so the Jacobian is generic. */
function randomParams(enc: ReturnType<typeof dense>, seed: number): NamedTensors {
  const rng = createRng(seed);
  const out: NamedTensors = {};
  for (const s of enc.paramSpecs) out[s.name] = rng.normalTensor([...s.shape]);
  return out;
}

/** Central finite difference of the float64 reference: (f(φ0 + h v) − f(φ0 − h v)) / 2h. */
function fdJvp(x: tf.Tensor, p0: NamedTensors, v: NamedTensors, names: string[], h = 1e-5): Float64Array {
  const xs = toMat(x);
  const plus = names.map((n) => addScaled(toMat(p0[n]!), toMat(v[n]!), h));
  const minus = names.map((n) => addScaled(toMat(p0[n]!), toMat(v[n]!), -h));
  const a = denseRef(xs, plus).data;
  const b = denseRef(xs, minus).data;
  return a.map((val, i) => (val - b[i]!) / (2 * h));
}

describe('dense (NTK parameterization)', () => {
  it('initialises first layer N(0,1), last layer zero, and outputs zero at init', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4096], outputSize: 2 });
    expect(enc.paramSpecs).toEqual([
      { name: 'w0', shape: [2, 4096] },
      { name: 'w1', shape: [4096, 2] },
    ]);
    const p = enc.init(createRng(1));
    const w0 = Array.from(p.w0!.dataSync());
    const mean = w0.reduce((a, b) => a + b, 0) / w0.length;
    const sd = Math.sqrt(w0.reduce((a, b) => a + (b - mean) ** 2, 0) / w0.length);
    // 8192 draws: mean within 4/√n ≈ 0.044 of 0, sd within 0.03 of 1.
    expect(Math.abs(mean)).toBeLessThan(0.044);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    expect(maxAbs(p.w1!.dataSync())).toBe(0);
    const y = enc.apply(p, tf.tensor2d([[1, 0]]));
    expect(Array.from(y.dataSync())).toEqual([0, 0]);
  });

  it('matches a float64 reference forward pass (depth 1 and 3)', () => {
    for (const hidden of [[64], [16, 8, 32]]) {
      const enc = dense({ inputSize: 3, hiddenSizes: hidden, outputSize: 2 });
      const p = randomParams(enc, 7);
      const x = createRng(8).normalTensor([5, 3]);
      const got = enc.apply(p, x).dataSync();
      const want = denseRef(
        toMat(x),
        enc.paramSpecs.map((s) => toMat(p[s.name]!)),
      ).data;
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
    }
  });

  it('f(x) = relu(x w0) w1 / √W for one hidden layer', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [9], outputSize: 1 });
    const p = randomParams(enc, 3);
    const x = tf.tensor2d([[0.3, -1.2]]);
    const h = tf.relu(tf.matMul(x, p.w0 as tf.Tensor2D));
    const want = tf.div(tf.matMul(h, p.w1 as tf.Tensor2D), 3).dataSync();
    expect(maxAbsDiff(enc.apply(p, x).dataSync(), want)).toBeLessThan(1e-6);
  });

  it('keeps leading batch dimensions', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 3 });
    const p = randomParams(enc, 1);
    expect(enc.apply(p, tf.ones([2, 5, 2])).shape).toEqual([2, 5, 3]);
  });

  it('rejects bad options and inputs with errors naming the field', () => {
    expect(() => dense({ inputSize: 0, hiddenSizes: [4], outputSize: 1 })).toThrow(/inputSize/);
    expect(() => dense({ inputSize: 2, hiddenSizes: [4, 1.5], outputSize: 1 })).toThrow(/hiddenSizes\[1\]/);
    // biome-ignore lint/suspicious/noExplicitAny: testing a bad value
    expect(() => dense({ inputSize: 2, hiddenSizes: [4], outputSize: 1, activation: 'tanh' as any })).toThrow(
      /activation/,
    );
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 1 });
    expect(() => enc.apply(enc.init(createRng(1)), tf.ones([3, 5]))).toThrow(
      /x: expected shape \[batch, 2\]/,
    );
  });
});

describe('Jacobian–vector products', () => {
  const cases = [
    { hidden: [32], seed: 11 },
    { hidden: [8, 16], seed: 12 },
  ];
  for (const { hidden, seed } of cases) {
    it(`closed form and double-VJP match central finite differences (hidden ${hidden.join('×')})`, () => {
      const enc = dense({ inputSize: 2, hiddenSizes: hidden, outputSize: 2 });
      const names = enc.paramSpecs.map((s) => s.name);
      const p0 = randomParams(enc, seed);
      const v = randomParams(enc, seed + 100);
      const x = createRng(seed + 200).normalTensor([6, 2]);
      const fd = fdJvp(x, p0, v, names);
      const closed = jvpDense(enc, p0, x, v);
      const dvjp = jvpByDoubleVjp(enc, p0, x, v);
      const scale = Math.max(1, maxAbs(fd));
      // float32 network vs float64 finite differences (h = 1e-5; truncation ~1e-10, no kinks hit).
      expect(maxAbsDiff(closed.tangent.dataSync(), fd)).toBeLessThan(2e-5 * scale);
      expect(maxAbsDiff(dvjp.dataSync(), fd)).toBeLessThan(2e-5 * scale);
      expect(maxAbsDiff(closed.tangent.dataSync(), dvjp.dataSync())).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(closed.primal.dataSync(), enc.apply(p0, x).dataSync())).toBe(0);
      // The dispatcher picks the closed form by default and the trick on request.
      expect(maxAbsDiff(jvp(enc, p0, x, v).dataSync(), closed.tangent.dataSync())).toBe(0);
      expect(maxAbsDiff(jvp(enc, p0, x, v, { method: 'double-vjp' }).dataSync(), dvjp.dataSync())).toBe(0);
    });
  }

  it('names a missing or misshapen tangent', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [4], outputSize: 1 });
    const p0 = enc.init(createRng(1));
    const x = tf.ones([1, 2]);
    expect(() => jvp(enc, p0, x, { w0: tf.zeros([2, 4]) })).toThrow(/tangent\.w1/);
    expect(() => jvp(enc, p0, x, { w0: tf.zeros([2, 4]), w1: tf.zeros([4, 2]) })).toThrow(/tangent\.w1/);
  });
});

describe('linearize', () => {
  it('E1 check: at φ0 (last layer zero) the twin is the random-feature model relu(x w0⁰) w1 / √W', () => {
    const W = 64;
    const enc = dense({ inputSize: 2, hiddenSizes: [W], outputSize: 2 });
    const p0 = enc.init(createRng(5));
    const x = createRng(6).normalTensor([10, 2]);
    // J w.r.t. the first layer vanishes at φ0, by both methods.
    const v = randomParams(enc, 9);
    const onlyFirst = { w0: v.w0!, w1: tf.zeros([W, 2]) };
    expect(maxAbs(jvp(enc, p0, x, onlyFirst).dataSync())).toBe(0);
    expect(maxAbs(jvp(enc, p0, x, onlyFirst, { method: 'double-vjp' }).dataSync())).toBe(0);
    for (const method of ['closed-form', 'double-vjp'] as const) {
      const lin = linearize(enc, p0, { method });
      // Move both layers: only the last one changes the output.
      const moved = { w0: tf.add(p0.w0!, v.w0!), w1: v.w1! };
      const got = lin.apply(moved, x).dataSync();
      const want = tf
        .div(
          tf.matMul(tf.relu(tf.matMul(x as tf.Tensor2D, p0.w0 as tf.Tensor2D)), v.w1 as tf.Tensor2D),
          Math.sqrt(W),
        )
        .dataSync();
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
      // The gradient of any loss w.r.t. the first layer is exactly zero.
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(lin.apply({ w0: a, w1: b }, x))))([
        moved.w0,
        moved.w1,
      ]);
      expect(maxAbs(g[0]!.dataSync())).toBe(0);
      expect(maxAbs(g[1]!.dataSync())).toBeGreaterThan(0);
      lin.dispose();
    }
  });

  it('closed-form and double-VJP twins agree in value and gradient away from φ0 (depth 2)', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [8, 8], outputSize: 2 });
    const p0 = randomParams(enc, 21);
    const x = createRng(22).normalTensor([4, 2]);
    const p = randomParams(enc, 23);
    const a = linearize(enc, p0);
    const b = linearize(enc, p0, { method: 'double-vjp' });
    const loss = (lin: typeof a) => (w0: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor) =>
      tf.sum(tf.square(lin.apply({ w0, w1, w2 }, x)));
    const fa = a.apply(p, x).dataSync();
    const fb = b.apply(p, x).dataSync();
    expect(maxAbsDiff(fa, fb)).toBeLessThan(1e-4 * Math.max(1, maxAbs(fa)));
    const ga = tf.grads(loss(a))([p.w0!, p.w1!, p.w2!]);
    const gb = tf.grads(loss(b))([p.w0!, p.w1!, p.w2!]);
    for (let i = 0; i < 3; i++) {
      const da = ga[i]!.dataSync();
      expect(maxAbsDiff(da, gb[i]!.dataSync())).toBeLessThan(1e-4 * Math.max(1, maxAbs(da)));
    }
    // At φ = φ0 the twin equals the network; init() returns φ0.
    const start = a.init(createRng(0));
    expect(maxAbsDiff(a.apply(start, x).dataSync(), enc.apply(p0, x).dataSync())).toBe(0);
    // f_lin is affine in φ: f_lin(φ0 + 2d) − f_lin(φ0) = 2 (f_lin(φ0 + d) − f_lin(φ0)).
    const d = (k: number) => ({
      w0: tf.add(p0.w0!, tf.mul(tf.sub(p.w0!, p0.w0!), k)),
      w1: tf.add(p0.w1!, tf.mul(tf.sub(p.w1!, p0.w1!), k)),
      w2: tf.add(p0.w2!, tf.mul(tf.sub(p.w2!, p0.w2!), k)),
    });
    const f0 = a.apply(d(0), x).dataSync();
    const f1 = a.apply(d(1), x).dataSync();
    const f2 = a.apply(d(2), x).dataSync();
    const lhs = f2.map((v, i) => v - f0[i]!);
    const rhs = f1.map((v, i) => 2 * (v - f0[i]!));
    expect(maxAbsDiff(lhs, rhs)).toBeLessThan(1e-4 * Math.max(1, maxAbs(rhs)));
    a.dispose();
    b.dispose();
  });

  it('keeps memory flat and owns its copy of φ0', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [16], outputSize: 2 });
    const p0 = randomParams(enc, 1);
    const lin = linearize(enc, p0, { method: 'double-vjp' });
    for (const t of Object.values(p0)) t.dispose();
    const x = tf.ones([3, 2]);
    const p = lin.init(createRng(1));
    const y = lin.apply(p, x);
    y.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) lin.apply(p, x).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('one hidden layer through the fused kernel of @gcvi/kernels', () => {
  /** Float64 closed-form first-order gradients of ⟨u, f(x)⟩ for f = relu(x w0) w1 · s (row-major arrays). */
  function gradRef(
    x: Float64Array,
    w0: Float64Array,
    w1: Float64Array,
    u: Float64Array,
    B: number,
    W: number,
  ) {
    const I = 2;
    const O = 2;
    const s = 1 / Math.sqrt(W);
    const dx = new Float64Array(B * I);
    const dw0 = new Float64Array(I * W);
    const dw1 = new Float64Array(W * O);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < W; j++) {
        let h = 0;
        for (let i = 0; i < I; i++) h += x[b * I + i]! * w0[i * W + j]!;
        if (h <= 0) continue;
        let g = 0;
        for (let o = 0; o < O; o++) {
          dw1[j * O + o]! += s * h * u[b * O + o]!;
          g += s * u[b * O + o]! * w1[j * O + o]!;
        }
        for (let i = 0; i < I; i++) {
          dw0[i * W + j]! += x[b * I + i]! * g;
          dx[b * I + i]! += g * w0[i * W + j]!;
        }
      }
    }
    return { dx, dw0, dw1 };
  }

  it('keeps leading dimensions and matches the float64 forward pass (x [2, 3, 2])', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [37], outputSize: 2 });
    const p = randomParams(enc, 31);
    const x = createRng(32).normalTensor([2, 3, 2]);
    const y = enc.apply(p, x);
    expect(y.shape).toEqual([2, 3, 2]);
    const want = denseRef(toMat(tf.reshape(x, [6, 2])), [toMat(p.w0!), toMat(p.w1!)]).data;
    expect(maxAbsDiff(y.dataSync(), want)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
  });

  it('first-order gradients (x, w0, w1) match the float64 closed form (rel 1e-5)', () => {
    const B = 5;
    const W = 33;
    const enc = dense({ inputSize: 2, hiddenSizes: [W], outputSize: 2 });
    const p = randomParams(enc, 41);
    const x = createRng(42).normalTensor([B, 2]);
    const u = createRng(43).normalTensor([B, 2]);
    const [gx, g0, g1] = tf.grads((xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(u, enc.apply({ w0: a, w1: b }, xx))),
    )([x, p.w0!, p.w1!]);
    const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());
    const ref = gradRef(f64(x), f64(p.w0!), f64(p.w1!), f64(u), B, W);
    for (const [got, want] of [
      [gx!, ref.dx],
      [g0!, ref.dw0],
      [g1!, ref.dw1],
    ] as const) {
      expect(maxAbsDiff(got.dataSync(), want)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
    }
  });

  it('is differentiable twice: ∇ of ⟨(∂x, ∂w0, ∂w1)⟨u, f⟩, (a, b, c)⟩ matches float64 central differences', () => {
    const B = 4;
    const W = 24;
    const enc = dense({ inputSize: 2, hiddenSizes: [W], outputSize: 2 });
    const p = randomParams(enc, 51);
    const x = createRng(52).normalTensor([B, 2]);
    const u = createRng(53).normalTensor([B, 2]);
    const [ca, cb, cc] = [
      createRng(54).normalTensor([B, 2]),
      createRng(55).normalTensor([2, W]),
      createRng(56).normalTensor([W, 2]),
    ];
    // φ(x, w0, w1, u) = ⟨∂x, a⟩ + ⟨∂w0, b⟩ + ⟨∂w1, c⟩ where ∂ are the gradients of ⟨u, f(x)⟩.
    const phi = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor, uu: tf.Tensor): tf.Scalar => {
      const gs = tf.grads((x1: tf.Tensor, a1: tf.Tensor, b1: tf.Tensor) =>
        tf.sum(tf.mul(uu, enc.apply({ w0: a1, w1: b1 }, x1))),
      )([xx, a, b]);
      return tf.addN([
        tf.sum(tf.mul(gs[0]!, ca)),
        tf.sum(tf.mul(gs[1]!, cb)),
        tf.sum(tf.mul(gs[2]!, cc)),
      ]) as tf.Scalar;
    };
    const got = tf
      .grads(phi)([x, p.w0!, p.w1!, u])
      .map((g) => Float64Array.from(g.dataSync()));
    // φ in float64 from the closed-form gradient; central differences along each coordinate.
    const base = [x, p.w0!, p.w1!, u].map((t) => Float64Array.from(t.dataSync()));
    const [a64, b64, c64] = [ca, cb, cc].map((t) => Float64Array.from(t.dataSync()));
    const phi64 = (v: Float64Array[]) => {
      const r = gradRef(v[0]!, v[1]!, v[2]!, v[3]!, B, W);
      let acc = 0;
      for (let k = 0; k < r.dx.length; k++) acc += r.dx[k]! * a64![k]!;
      for (let k = 0; k < r.dw0.length; k++) acc += r.dw0[k]! * b64![k]!;
      for (let k = 0; k < r.dw1.length; k++) acc += r.dw1[k]! * c64![k]!;
      return acc;
    };
    const h = 1e-6;
    for (let arg = 0; arg < 4; arg++) {
      const fd = new Float64Array(base[arg]!.length);
      for (let k = 0; k < fd.length; k++) {
        const plus = base.map((v) => Float64Array.from(v));
        const minus = base.map((v) => Float64Array.from(v));
        plus[arg]![k]! += h;
        minus[arg]![k]! -= h;
        fd[k] = (phi64(plus) - phi64(minus)) / (2 * h);
      }
      // φ is piecewise bilinear; no kink within ±1e-6 of these random points. float32 vs float64.
      expect(maxAbsDiff(got[arg]!, fd)).toBeLessThan(2e-5 * Math.max(1, maxAbs(fd)));
      expect(maxAbs(fd)).toBeGreaterThan(0);
    }
  });

  it('leaves no tensors behind (forward, gradient, second order)', () => {
    const enc = dense({ inputSize: 2, hiddenSizes: [16], outputSize: 2 });
    const p = randomParams(enc, 61);
    const x = createRng(62).normalTensor([3, 2]);
    const run = () => {
      enc.apply(p, x).dispose();
      tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(enc.apply({ w0: a, w1: p.w1! }, x)))([p.w0!]));
      jvpByDoubleVjp(enc, p, x, p).dispose();
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** Float64 forward pass with biases: pre_l = scale_l (h W_l) + b_l, scale_0 = 1, scale_l = 1/√fanIn. */
function biasedRef(
  x: tf.Tensor,
  p: Record<string, Float64Array | Float32Array>,
  sizes: number[],
): Float64Array {
  const batch = x.shape[0]!;
  let h = Float64Array.from(x.dataSync());
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fi, fo] = [sizes[l]!, sizes[l + 1]!];
    const w = p[`w${l}`]!;
    const b = p[`b${l}`]!;
    const s = l === 0 ? 1 : 1 / Math.sqrt(fi);
    const out = new Float64Array(batch * fo);
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < fo; j++) {
        let acc = 0;
        for (let i = 0; i < fi; i++) acc += h[r * fi + i]! * w[i * fo + j]!;
        const pre = s * acc + b[j]!;
        out[r * fo + j] = l + 2 < sizes.length ? Math.max(pre, 0) : pre;
      }
    }
    h = out;
  }
  return h;
}

describe('dense with biases (bias: true)', () => {
  const sizes = [2, 16, 8, 2];
  const make = () => dense({ inputSize: 2, hiddenSizes: [16, 8], outputSize: 2, bias: true });

  it('has w_l, b_l per layer, spec.bias; without the option spec and parameters are unchanged', () => {
    const enc = make();
    expect(enc.paramSpecs.map((s) => s.name)).toEqual(['w0', 'b0', 'w1', 'b1', 'w2', 'b2']);
    expect(enc.paramSpecs[1]!.shape).toEqual([16]);
    expect(enc.spec.bias).toBe(true);
    const plain = dense({ inputSize: 2, hiddenSizes: [16, 8], outputSize: 2 });
    expect(plain.spec).toEqual({
      kind: 'dense',
      inputSize: 2,
      hiddenSizes: [16, 8],
      outputSize: 2,
      activation: 'relu',
    });
    expect(plain.paramSpecs.map((s) => s.name)).toEqual(['w0', 'w1', 'w2']);
    // the weights are drawn exactly as without biases when bias is off (E1 unchanged)
    const a = plain.init(createRng(3));
    const b = dense({ inputSize: 2, hiddenSizes: [16, 8], outputSize: 2, bias: false }).init(createRng(3));
    for (const n of ['w0', 'w1', 'w2'])
      expect(Array.from(a[n]!.dataSync())).toEqual(Array.from(b[n]!.dataSync()));
    expect(() =>
      dense({ inputSize: 2, hiddenSizes: [4], outputSize: 2, bias: 'yes' as unknown as boolean }),
    ).toThrow(/bias/);
  });

  it('init: hidden biases N(0, 1), last layer (weights and bias) zero, so f ≡ 0; f(0) ≠ 0 once trained', () => {
    const enc = make();
    const p = enc.init(createRng(4));
    expect(maxAbs(p.b2!.dataSync())).toBe(0);
    expect(maxAbs(p.w2!.dataSync())).toBe(0);
    const b0 = p.b0!.dataSync();
    expect(maxAbs(b0)).toBeGreaterThan(0);
    const x = createRng(5).normalTensor([4, 2]);
    expect(maxAbs(enc.apply(p, x).dataSync())).toBe(0);
    const q = randomParams(enc, 6);
    expect(maxAbs(enc.apply(q, tf.zeros([1, 2])).dataSync())).toBeGreaterThan(0);
  });

  it('forward matches the float64 reference; closed-form JVP matches double-VJP and finite differences', () => {
    const enc = make();
    const p0 = randomParams(enc, 7);
    const v = randomParams(enc, 8);
    const x = createRng(9).normalTensor([6, 2]);
    const arr = (ps: NamedTensors) =>
      Object.fromEntries(Object.entries(ps).map(([k, t]) => [k, t.dataSync() as Float32Array]));
    const want = biasedRef(x, arr(p0), sizes);
    expect(maxAbsDiff(enc.apply(p0, x).dataSync(), want)).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
    const h = 1e-5;
    const shifted = (sign: number) =>
      Object.fromEntries(
        Object.keys(p0).map((k) => {
          const a = p0[k]!.dataSync();
          const d = v[k]!.dataSync();
          return [k, Float64Array.from(a, (val, i) => val + sign * h * d[i]!)];
        }),
      );
    const fp = biasedRef(x, shifted(1), sizes);
    const fm = biasedRef(x, shifted(-1), sizes);
    const fd = fp.map((val, i) => (val - fm[i]!) / (2 * h));
    const closed = jvp(enc, p0, x, v);
    const dvjp = jvp(enc, p0, x, v, { method: 'double-vjp' });
    const scale = Math.max(1, maxAbs(fd));
    expect(maxAbsDiff(closed.dataSync(), fd)).toBeLessThan(2e-5 * scale);
    expect(maxAbsDiff(dvjp.dataSync(), fd)).toBeLessThan(2e-5 * scale);
    // the bias tangent alone moves the output (the last bias directly: J_b2 = I)
    const onlyB2 = Object.fromEntries(
      Object.entries(v).map(([k, t]) => [k, k === 'b2' ? t : tf.zerosLike(t)]),
    );
    const jb = jvp(enc, p0, x, onlyB2).arraySync() as number[][];
    const b2 = Array.from(v.b2!.dataSync());
    for (const row of jb)
      for (let j = 0; j < row.length; j++) expect(Math.abs(row[j]! - b2[j]!)).toBeLessThan(1e-6);
  });
});
