import { attentionPlain, fusedAttention } from '@gcvi/kernels';
import { adam } from '@gcvi/objectives';
import { createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { runPythonBench } from './python.js';

/**
 * One E2 training step (DESIGN §2 E2) at the paper's size: a simulated (S, Z, X) with n = 1,000
 * points, the Z encoder (5 seeds) and the S encoder (1 seed), each a Set Transformer
 * SAB(1→64, 4 heads) → SAB(64→64) → PMA(k) → Linear(64→2), the forward-KL (L_P) loss with the
 * "mean" parameterization (Gaussian, scale 1), forward + backward + Adam. The ELBO step instead
 * fits the observed X with K = 100 reparameterized samples (self-normalized weights).
 */
export const E2 = { n: 1000, width: 64, heads: 4, mu: [-20, -10, 0, 10, 20], lr: 1e-3 } as const;

type Attention = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale?: number) => tf.Tensor3D;

interface MabParams {
  wq: tf.Variable;
  bq: tf.Variable;
  wk: tf.Variable;
  bk: tf.Variable;
  wv: tf.Variable;
  bv: tf.Variable;
  wo: tf.Variable;
  bo: tf.Variable;
}

let nextId = 0;

function dense(rng: Rng, din: number, dout: number, tag: string): [tf.Variable, tf.Variable] {
  const id = nextId++;
  return tf.tidy(() => [
    tf.variable(rng.normalTensor([din, dout], 0, 1 / Math.sqrt(din)), true, `e2_${tag}_w_${id}`),
    tf.variable(tf.zeros([dout]), true, `e2_${tag}_b_${id}`),
  ]);
}

function mabParams(rng: Rng, dq: number, dk: number): MabParams {
  const [wq, bq] = dense(rng, dq, E2.width, 'q');
  const [wk, bk] = dense(rng, dk, E2.width, 'k');
  const [wv, bv] = dense(rng, dk, E2.width, 'v');
  const [wo, bo] = dense(rng, E2.width, E2.width, 'o');
  return { wq, bq, wk, bk, wv, bv, wo, bo };
}

/** [n, width] → [heads, n, width/heads] and back. */
function splitHeads(x: tf.Tensor): tf.Tensor {
  const n = x.shape[0] as number;
  return tf.transpose(tf.reshape(x, [n, E2.heads, E2.width / E2.heads]), [1, 0, 2]);
}
function mergeHeads(x: tf.Tensor): tf.Tensor {
  const n = x.shape[1] as number;
  return tf.reshape(tf.transpose(x, [1, 0, 2]), [n, E2.width]);
}

/** MAB(Q, K): O = Q' + multihead(Q', K', V'); O + relu(O Wo + bo). Scale 1/√width as the reference. */
function mab(p: MabParams, qIn: tf.Tensor, kIn: tf.Tensor, attention: Attention): tf.Tensor {
  const q = tf.add(tf.matMul(qIn as tf.Tensor2D, p.wq), p.bq);
  const k = tf.add(tf.matMul(kIn as tf.Tensor2D, p.wk), p.bk);
  const v = tf.add(tf.matMul(kIn as tf.Tensor2D, p.wv), p.bv);
  const a = mergeHeads(attention(splitHeads(q), splitHeads(k), splitHeads(v), 1 / Math.sqrt(E2.width)));
  const o = tf.add(q, a);
  return tf.add(o, tf.relu(tf.add(tf.matMul(o as tf.Tensor2D, p.wo), p.bo)));
}

interface SetTransformer {
  sab1: MabParams;
  sab2: MabParams;
  pma: MabParams;
  seeds: tf.Variable;
  out: [tf.Variable, tf.Variable];
}

function setTransformer(rng: Rng, seeds: number): SetTransformer {
  const seedInit = rng.split('seeds').normalTensor([seeds, E2.width], 0, 1 / Math.sqrt(E2.width));
  const st: SetTransformer = {
    sab1: mabParams(rng.split('sab1'), 1, 1),
    sab2: mabParams(rng.split('sab2'), E2.width, E2.width),
    pma: mabParams(rng.split('pma'), E2.width, E2.width),
    seeds: tf.variable(seedInit),
    out: dense(rng.split('out'), E2.width, 2, 'out'),
  };
  seedInit.dispose();
  return st;
}

function variablesOf(st: SetTransformer): tf.Variable[] {
  const mabVars = (m: MabParams) => [m.wq, m.bq, m.wk, m.bk, m.wv, m.bv, m.wo, m.bo];
  return [...mabVars(st.sab1), ...mabVars(st.sab2), ...mabVars(st.pma), st.seeds, ...st.out];
}

function applySt(st: SetTransformer, x: tf.Tensor, attention: Attention): tf.Tensor {
  const h1 = mab(st.sab1, x, x, attention);
  const h2 = mab(st.sab2, h1, h1, attention);
  const pooled = mab(st.pma, st.seeds, h2, attention);
  return tf.add(tf.matMul(pooled as tf.Tensor2D, st.out[0]), st.out[1]);
}

/** One simulated (S, Z, X) on the JS side. */
export function simulateE2(
  rng: Rng,
  n: number,
  shift?: number,
): { s: number; z: Float32Array; x: Float32Array } {
  const s = shift ?? 100 * rng.normal();
  const z = Float32Array.from(E2.mu, (m) => m + s + 0.5 * rng.normal());
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = z[rng.int(5)] + 0.1 * rng.normal();
  return { s, z, x };
}

export interface E2Step {
  readonly variant: string;
  step(n: number): number;
  dispose(): void;
}

export type E2Objective = 'forward-kl' | 'elbo';

/** Number of reparameterized samples of the ELBO step (DESIGN §2 E2). */
export const ELBO_SAMPLES = 100;

const LOG_2PI = Math.log(2 * Math.PI);

/** Σ log N(a; b, sd²) elementwise, summed over `axis` (or everything). */
function normalLogProb(a: tf.Tensor, b: tf.Tensor | number, sd: number): tf.Tensor {
  return tf.sub(tf.mul(-0.5 / (sd * sd), tf.square(tf.sub(a, b))), Math.log(sd) + 0.5 * LOG_2PI);
}

/**
 * ELBO on the observed X with K reparameterized samples of (Z, S) from q (mean parameterization,
 * scale 1), weighted by the self-normalized importance weights as the reference does: the
 * weights softmax(log w) are constants (no gradient), loss = −Σ_k w_k log w_k.
 */
function elboLoss(
  zMean: tf.Tensor,
  sMean: tf.Tensor,
  x: tf.Tensor,
  epsZ: tf.Tensor,
  epsS: tf.Tensor,
  n: number,
): tf.Scalar {
  const z = tf.add(zMean, epsZ); // [K, 5]
  const s = tf.add(sMean, epsS); // [K]
  const mu = tf.tensor1d(E2.mu as unknown as number[]);
  const logPrior = tf.add(
    normalLogProb(s, 0, 100),
    tf.sum(normalLogProb(z, tf.add(mu, tf.expandDims(s, 1)), 0.5), 1),
  );
  // log p(X | z) = Σ_i log (1/5 Σ_k N(X_i; z_k, 0.1²)): [K, n, 5] → logsumexp over k → sum over i.
  const comp = normalLogProb(tf.reshape(x, [1, n, 1]), tf.expandDims(z, 1), 0.1);
  const logLik = tf.sub(tf.sum(tf.logSumExp(comp, 2), 1), n * Math.log(5));
  const logQ = tf.add(tf.sum(normalLogProb(z, zMean, 1), 1), normalLogProb(s, sMean, 1));
  const logW = tf.sub(tf.add(logPrior, logLik), logQ); // [K]
  const lw = logW.dataSync();
  let mx = Number.NEGATIVE_INFINITY;
  for (const v of lw) mx = Math.max(mx, v);
  const e = Array.from(lw, (v) => Math.exp(v - mx));
  const tot = e.reduce((a, b) => a + b, 0);
  const w = tf.tensor1d(e.map((v) => v / tot)); // constants: no gradient flows through the weights
  return tf.neg(tf.sum(tf.mul(w, logW))) as tf.Scalar;
}

function makeE2Step(variant: 'plain' | 'fused', seed: number, n: number, objective: E2Objective): E2Step {
  const rng = createRng(seed);
  const data = rng.split('data');
  const noise = rng.split('noise');
  const zEnc = setTransformer(rng.split('zEncoder'), 5);
  const sEnc = setTransformer(rng.split('sEncoder'), 1);
  const vars = [...variablesOf(zEnc), ...variablesOf(sEnc)];
  const attention: Attention = variant === 'fused' ? fusedAttention : attentionPlain;
  const fused = variant === 'fused' ? adam({ lr: E2.lr }) : null;
  fused?.init(Object.fromEntries(vars.map((x) => [x.name, x])));
  const plain = variant === 'plain' ? tf.train.adam(E2.lr, 0.9, 0.999, 1e-8) : null;
  // The ELBO fits one observed replicate (S = 100): drawn once.
  const observed = simulateE2(rng.split('observed'), n, 100);
  return {
    variant,
    step() {
      const sim = objective === 'elbo' ? observed : simulateE2(data, n);
      const epsZ = objective === 'elbo' ? noise.fillNormal(new Float32Array(ELBO_SAMPLES * 5)) : null;
      const epsS = objective === 'elbo' ? noise.fillNormal(new Float32Array(ELBO_SAMPLES)) : null;
      return tf.tidy(() => {
        const x = tf.tensor2d(sim.x, [n, 1]);
        const z = tf.tensor1d(sim.z);
        const { value, grads } = tf.variableGrads(() => {
          const zMean = tf.squeeze(tf.slice(applySt(zEnc, x, attention), [0, 0], [5, 1]), [1]);
          const sMean = tf.squeeze(tf.slice(applySt(sEnc, x, attention), [0, 0], [1, 1]));
          if (epsZ && epsS) {
            return elboLoss(zMean, sMean, x, tf.tensor2d(epsZ, [ELBO_SAMPLES, 5]), tf.tensor1d(epsS), n);
          }
          // −log N(Z_k; mean_k, 1) − log N(S; mean_S, 1), up to constants.
          const lz = tf.mul(0.5, tf.sum(tf.square(tf.sub(z, zMean))));
          const ls = tf.mul(0.5, tf.square(tf.sub(sim.s, sMean)));
          return tf.add(lz, ls) as tf.Scalar;
        }, vars);
        if (fused) fused.apply(grads, E2.lr, 1);
        else plain?.applyGradients(grads as never);
        return value.dataSync()[0];
      });
    },
    dispose() {
      fused?.dispose();
      plain?.dispose();
      tf.dispose(vars);
    },
  };
}

export interface E2Case {
  name: string;
  make(): E2Step;
}

/** Cases timed by the bench: the forward-KL and ELBO steps, plain tfjs and with the fused kernels. */
export function e2Cases(n: number = E2.n): { name: string; variants: E2Case[] }[] {
  return (['forward-kl', 'elbo'] as const).map((objective) => ({
    name: `${objective}, n ${n}`,
    variants: [
      { name: 'plain', make: () => makeE2Step('plain', 1, n, objective) },
      { name: 'fused', make: () => makeE2Step('fused', 1, n, objective) },
    ],
  }));
}

export interface TorchE2 {
  torch: string;
  threads: number;
  results: { case: string; medianMs: number }[];
}

export function runTorchE2(o: { warmup: number; steps: number; torchThreads: number }): TorchE2 {
  return runPythonBench<TorchE2>('e2_step.py', [
    '--n',
    String(E2.n),
    '--warmup',
    String(o.warmup),
    '--steps',
    String(o.steps),
    '--threads',
    String(o.torchThreads),
  ]);
}
