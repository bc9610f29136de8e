import { fusedDense, logI0Plain, vonMisesNll } from '@gcvi/kernels';
import { adam } from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

/** E1 constants (DESIGN §2 E1). */
export const E1 = { sigma: 0.5, lr0: 1e-4, etaShift: 1e-4 } as const;

const LOG_2PI = Math.log(2 * Math.PI);

/** One E1 training step, ready to be timed. `step(n)` runs step number n and returns the loss. */
export interface E1Step {
  readonly variant: string;
  step(n: number): number;
  dispose(): void;
}

/** Fresh (θ, x) pairs from the E1 simulator, drawn on the JS side (same for every variant). */
export function simulateE1(rng: Rng, batch: number): { theta: Float32Array; x: Float32Array } {
  const theta = rng.fillUniform(new Float32Array(batch), 0, 2 * Math.PI);
  const eps = rng.fillNormal(new Float32Array(batch), 0, E1.sigma);
  const x = new Float32Array(batch * 2);
  for (let i = 0; i < batch; i++) {
    const a = theta[i] + eps[i];
    x[2 * i] = Math.cos(a);
    x[2 * i + 1] = Math.sin(a);
  }
  return { theta, x };
}

/** (cos θ, sin θ) as a [batch, 2] array: the von Mises sufficient statistic. */
export function sufficientStats(theta: Float32Array): Float32Array {
  const t = new Float32Array(theta.length * 2);
  for (let i = 0; i < theta.length; i++) {
    t[2 * i] = Math.cos(theta[i]);
    t[2 * i + 1] = Math.sin(theta[i]);
  }
  return t;
}

export function learningRate(n: number): number {
  return 1 / (1 / E1.lr0 + n / 10);
}

/** The plain tfjs composition: matMul/relu/… ops, autodiff, tf.train.adam. */
export function plainE1Step(width: number, batch: number, seed: number): E1Step {
  const rng = createRng(seed);
  const data = rng.split('data');
  const { w1, w2 } = initParams(rng, width, 'plain');
  const scale = 1 / Math.sqrt(width);
  const opt = tf.train.adam(E1.lr0, 0.9, 0.999, 1e-8);
  let skipped = 0;
  return {
    variant: 'plain',
    step(n) {
      const { theta, x } = simulateE1(data, batch);
      const t = sufficientStats(theta);
      return tf.tidy(() => {
        const xt = tf.tensor2d(x, [batch, 2]);
        const tt = tf.tensor2d(t, [batch, 2]);
        const { value, grads } = tf.variableGrads(() => {
          const eta = tf.add(tf.mul(tf.matMul(tf.relu(tf.matMul(xt, w1)), w2), scale), E1.etaShift);
          const kappa = tf.sqrt(tf.sum(tf.square(eta), 1));
          const nll = tf.add(tf.sub(logI0Plain(kappa), tf.sum(tf.mul(eta, tt), 1)), LOG_2PI);
          return tf.mean(nll) as tf.Scalar;
        }, [w1, w2]);
        const finite = tf.logicalAnd(
          tf.all(tf.isFinite(grads[w1.name])),
          tf.all(tf.isFinite(grads[w2.name])),
        );
        if (finite.dataSync()[0]) {
          (opt as unknown as { learningRate: number }).learningRate = learningRate(n);
          opt.applyGradients(grads as never);
        } else skipped++;
        return value.dataSync()[0];
      });
    },
    dispose() {
      opt.dispose();
      w1.dispose();
      w2.dispose();
      void skipped;
    },
  };
}

let nextId = 0;

function initParams(rng: Rng, width: number, tag: string): { w1: tf.Variable; w2: tf.Variable } {
  const id = nextId++;
  return tf.tidy(() => ({
    w1: tf.variable(rng.split('init').normalTensor([2, width]), true, `e1_${tag}_w1_${id}`),
    w2: tf.variable(tf.zeros([width, 2]), true, `e1_${tag}_w2_${id}`),
  }));
}

/**
 * The same step with @gcvi/kernels: fusedDense (forward + closed-form backward), the fused von
 * Mises NLL (log I0 and I1/I0 in one kernel) and `adam()` of @gcvi/objectives (all variables in
 * one FusedAdamStep kernel); a step whose gradient is not finite is skipped, as in the plain
 * variant. `dataRng` (default: the seed's `data` stream) lets a test feed it the same pairs as
 * another variant.
 */
export function fusedE1Step(width: number, batch: number, seed: number, dataRng?: Rng): E1Step {
  const rng = createRng(seed);
  const data = dataRng ?? rng.split('data');
  const { w1, w2 } = initParams(rng, width, 'fused');
  const opt = adam({ lr: E1.lr0 });
  opt.init({ [w1.name]: w1, [w2.name]: w2 });
  let skipped = 0;
  return {
    variant: 'fused',
    step(n) {
      const { theta, x } = simulateE1(data, batch);
      const t = sufficientStats(theta);
      return tf.tidy(() => {
        const xt = tf.tensor2d(x, [batch, 2]);
        const tt = tf.tensor2d(t, [batch, 2]);
        const { value, grads } = tf.variableGrads(
          () => vonMisesNll(tf.add(fusedDense(xt, w1, w2), E1.etaShift), tt) as tf.Scalar,
          [w1, w2],
        );
        const finite = tf.logicalAnd(
          tf.all(tf.isFinite(grads[w1.name])),
          tf.all(tf.isFinite(grads[w2.name])),
        );
        if (finite.dataSync()[0]) opt.apply(grads, learningRate(n), 1);
        else skipped++;
        return value.dataSync()[0];
      });
    },
    dispose() {
      opt.dispose();
      void skipped;
      w1.dispose();
      w2.dispose();
    },
  };
}
