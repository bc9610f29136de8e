import { nsf } from '@gcvi/flows';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export async function main(): Promise<unknown> {
  await initBackend();
  const rng = createRng(0);

  // A bimodal conditional: θ1 = ±x + 0.1 ε1 (sign a fair coin), θ2 = 0.1 ε2, for x ~ U(0.5, 1.5).
  const draw = (n: number, r: typeof rng) => {
    const x = new Float32Array(n);
    const theta = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      x[i] = 0.5 + r.uniform();
      theta[2 * i] = (r.uniform() < 0.5 ? -1 : 1) * (x[i] as number) + 0.1 * r.normal();
      theta[2 * i + 1] = 0.1 * r.normal();
    }
    return { theta: tf.tensor2d(theta, [n, 2]), x: tf.tensor2d(x, [n, 1]) };
  };
  // Exact −log p(θ | x) of that model, for comparison.
  const exactNll = (theta: Float32Array, x: Float32Array) => {
    let s = 0;
    const logN = (v: number) => -0.5 * (v / 0.1) ** 2 - Math.log(0.1 * Math.sqrt(2 * Math.PI));
    for (let i = 0; i < x.length; i++) {
      const [t1, t2, xi] = [theta[2 * i] as number, theta[2 * i + 1] as number, x[i] as number];
      const a = logN(t1 - xi);
      const b = logN(t1 + xi);
      const m = Math.max(a, b);
      s -= m + Math.log(0.5 * (Math.exp(a - m) + Math.exp(b - m))) + logN(t2);
    }
    return s / x.length;
  };

  // The flow: q(θ | x), 2-D θ, 1-D context, pure functions of its parameters.
  const flow = nsf({ dim: 2, contextDim: 1, layers: 4, bins: 8, hidden: 32 });
  const params = flow.init(rng.split('init'));
  const vars = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tf.variable(t)]));

  const test = draw(2000, rng.split('test'));
  const nll = () => {
    const m = tf.tidy(() => tf.mean(flow.logProb(vars, test.theta, test.x)));
    const v = -m.dataSync()[0]!;
    m.dispose();
    return v;
  };
  const nllStart = nll();

  // Forward KL on fresh simulations (the L_P / NPE loss): minimize −log q(θ | x) with Adam.
  const opt = tf.train.adam(3e-3);
  const data = rng.split('data');
  for (let step = 0; step < 400; step++) {
    const { theta, x } = draw(256, data);
    opt.minimize(() => tf.neg(tf.mean(flow.logProb(vars, theta, x))) as tf.Scalar);
    tf.dispose([theta, x]);
  }
  const nllEnd = nll();

  // Draws for x = 1 are bimodal: about half near θ1 = −1, half near θ1 = +1.
  const draws = flow.sample(vars, 2000, tf.tensor2d([[1]]), rng.split('sample'));
  const t1 = tf.tidy(() => tf.slice(draws, [0, 0], [-1, 1]).dataSync());
  const rightMode = t1.filter((v) => v > 0).length / t1.length;

  // A box prior's support: the logit variant puts no mass outside [−1, 1]².
  const boxed = nsf({ dim: 2, contextDim: 1, box: { low: [-1, -1], high: [1, 1] } });
  const inBox = boxed.sample(boxed.init(rng.split('box')), 1000, tf.tensor2d([[0]]), rng.split('b'));
  const maxAbs = tf.max(tf.abs(inBox)).dataSync()[0]!;

  return {
    nllStart, // ≈ 2.3: the initial flow is close to N(0, I)
    nllEnd, // close to the exact value
    exactNll: exactNll(test.theta.dataSync() as Float32Array, test.x.dataSync() as Float32Array), // ≈ −1.15
    rightMode, // ≈ 0.5
    maxAbs, // < 1
  };
}

// Run and print the result when executed directly (`npx tsx example.ts`), not when imported.
if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
