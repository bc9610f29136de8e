/**
 * How fast the NSF trains on sbibm's two_moons with a plain L_P loop (forward KL on simulations:
 * minimize −log q(θ | x) with Adam), and a C2ST-free check of the result on observation 1.
 *
 *   node --import tsx bench/two-moons.ts [budgets=1000,10000] [maxMinutes=8]
 *
 * Per budget: simulations from the prior (10% held out for validation), x z-scored with the
 * training set's mean and sd, the flow with sbi's NSF defaults (5 layers, 10 bins, 50 hidden) on
 * the box [−1, 1]², Adam lr 1e-3, batch 200, early stopping after 20 epochs without validation
 * improvement (sbi's default) or at the wall-clock cap. Then for observation 1: 10,000 draws,
 * the share in each crescent (split by the sign of θ1 + θ2, the mirror line of the two modes) beside
 * the reference samples', and the forward KL E_ref[log p − log q] with p the exact posterior
 * normalized on a 2000² grid over the prior box.
 */
import { findSbibmData, loadSbibmReference, twoMoons } from '@gcvi/datasets';
import { nsf } from '@gcvi/flows';
import { createRng, initBackend } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

const budgets = (process.argv[2] ?? '1000,10000').split(',').map(Number);
const maxMinutes = Number(process.argv[3] ?? 8);

const info = await initBackend();
const root = findSbibmData();
if (!root) throw new Error('shared/fixtures/sbibm not found (set GCVI_SBIBM_DIR)');
const task = twoMoons();
const ref = loadSbibmReference('two_moons', 1, root);
const refSamples = ref.samples!;

// Exact posterior of observation 1 on a grid: log p(θ | x_o) = log L(x_o | θ) − log Z on the box.
const G = 2000;
const hGrid = 2 / G;
let zSum = 0;
let zMax = -Infinity;
const ll: number[] = [];
for (let i = 0; i < G; i++) {
  for (let j = 0; j < G; j++) {
    const v = task.logLikelihood([-1 + (i + 0.5) * hGrid, -1 + (j + 0.5) * hGrid], ref.x);
    if (v > zMax) zMax = v;
    ll.push(v);
  }
}
for (const v of ll) zSum += Math.exp(v - zMax);
const logZ = zMax + Math.log(zSum * hGrid * hGrid);
let refLogP = 0;
for (let i = 0; i < refSamples.rows; i++) {
  refLogP += task.logLikelihood(refSamples.values.subarray(2 * i, 2 * i + 2), ref.x) - logZ;
}
refLogP /= refSamples.rows;
const refRight = (() => {
  let c = 0;
  for (let i = 0; i < refSamples.rows; i++)
    if (refSamples.values[2 * i]! + refSamples.values[2 * i + 1]! > 0) c++;
  return c / refSamples.rows;
})();
console.log(
  `backend ${info.name}; reference obs 1: E_ref[log p] = ${refLogP.toFixed(3)}, share θ1+θ2>0 = ${refRight.toFixed(3)}`,
);

for (const N of budgets) {
  const rng = createRng(`two-moons-${N}`);
  const sims = task.sample(N, rng.split('sims'));
  const nVal = Math.round(0.1 * N);
  const nTrain = N - nVal;
  const [thTrain, thVal] = tf.split(sims.theta, [nTrain, nVal]);
  const [xTrainRaw, xValRaw] = tf.split(sims.x, [nTrain, nVal]);
  const { mean, variance } = tf.moments(xTrainRaw!, 0);
  const sd = tf.sqrt(variance);
  const z = (x: tf.Tensor) => tf.div(tf.sub(x, mean), sd) as tf.Tensor2D;
  const xTrain = z(xTrainRaw!);
  const xVal = z(xValRaw!);
  const flow = nsf({
    dim: 2,
    contextDim: 2,
    layers: 5,
    bins: 10,
    hidden: 50,
    box: { low: [-1, -1], high: [1, 1] },
  });
  const vars = Object.fromEntries(
    Object.entries(flow.init(rng.split('init'))).map(([k, t]) => [k, tf.variable(t)]),
  );
  const opt = tf.train.adam(1e-3);
  const batch = 200;
  const shuffle = rng.split('shuffle');
  const valNll = () => {
    const m = tf.tidy(() => tf.mean(flow.logProb(vars, thVal!, xVal)));
    const v = -m.dataSync()[0]!;
    m.dispose();
    return v;
  };
  let best = Infinity;
  let bestEpoch = 0;
  let bestParams = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.clone(v)]));
  const t0 = performance.now();
  let epoch = 0;
  let steps = 0;
  const tensorsAtStart = tf.memory().numTensors;
  for (; ; epoch++) {
    const perm = shuffle.permutation(nTrain);
    for (let b = 0; b + batch <= nTrain; b += batch) {
      const idx = tf.tensor1d(perm.slice(b, b + batch), 'int32');
      const th = tf.gather(thTrain!, idx);
      const x = tf.gather(xTrain, idx);
      opt.minimize(() => tf.neg(tf.mean(flow.logProb(vars, th, x))) as tf.Scalar);
      tf.dispose([idx, th, x]);
      steps++;
    }
    const v = valNll();
    if (v < best) {
      best = v;
      bestEpoch = epoch;
      tf.dispose(Object.values(bestParams));
      bestParams = Object.fromEntries(Object.entries(vars).map(([k, t]) => [k, tf.clone(t)]));
    }
    const minutes = (performance.now() - t0) / 60000;
    if (epoch % 5 === 0) {
      console.log(
        `N=${N} epoch ${epoch} val NLL ${v.toFixed(4)} best ${best.toFixed(4)}@${bestEpoch} ${minutes.toFixed(2)} min tensors ${tf.memory().numTensors - tensorsAtStart}`,
      );
    }
    if (epoch - bestEpoch >= 20) break;
    if (minutes > maxMinutes) break;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  // Observation 1.
  const xo = z(tf.tensor2d([Array.from(ref.x)]));
  const ts = performance.now();
  const draws = flow.sample(bestParams, 10000, xo, rng.split('draws'));
  const sampleSeconds = (performance.now() - ts) / 1000;
  const d = draws.dataSync();
  let right = 0;
  for (let i = 0; i < 10000; i++) if (d[2 * i]! + d[2 * i + 1]! > 0) right++;
  const refT = tf.tensor2d(Float32Array.from(refSamples.values), [refSamples.rows, 2]);
  const refLogQT = tf.tidy(() => tf.mean(flow.logProb(bestParams, refT, xo)));
  const refLogQ = refLogQT.dataSync()[0]!;
  refLogQT.dispose();
  console.log(
    JSON.stringify({
      N,
      epochs: epoch + 1,
      steps,
      stoppedBy: epoch - bestEpoch >= 20 ? 'early stopping' : 'wall clock cap',
      trainSeconds: Number(trainSeconds.toFixed(1)),
      msPerStep: Number(((trainSeconds * 1000) / steps).toFixed(1)),
      bestValNll: Number(best.toFixed(4)),
      sample10kSeconds: Number(sampleSeconds.toFixed(2)),
      shareRightMode: right / 10000,
      referenceShareRightMode: refRight,
      meanLogQOfReference: Number(refLogQ.toFixed(3)),
      meanLogPOfReference: Number(refLogP.toFixed(3)),
      forwardKL: Number((refLogP - refLogQ).toFixed(3)),
    }),
  );
  tf.dispose([
    sims.theta,
    sims.x,
    thTrain!,
    thVal!,
    xTrainRaw!,
    xValRaw!,
    mean,
    variance,
    sd,
    xTrain,
    xVal,
    xo,
    draws,
    refT,
  ]);
  tf.dispose([...Object.values(bestParams), ...Object.values(vars)]);
}
