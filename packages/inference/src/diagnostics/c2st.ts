import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export interface C2stOptions {
  readonly rng: Rng;
  /** Cross-validation folds (default 5, as sbibm). */
  readonly folds?: number;
  /** Hidden units per layer = `hiddenMultiplier` · dim (default 10, as sbibm). */
  readonly hiddenMultiplier?: number;
  /** Maximum training epochs per fold (default 10000, sbibm's `max_iter`). */
  readonly maxEpochs?: number;
  /** Stop when the epoch loss has not improved by `tol` for `patience` epochs (sklearn: 1e-4, 10). */
  readonly tol?: number;
  readonly patience?: number;
  /** Adam learning rate (sklearn default 1e-3). */
  readonly lr?: number;
  /** L2 penalty α (sklearn default 1e-4), as sklearn: α/2 · ‖W‖² / batch size. */
  readonly alpha?: number;
  /** Minibatch size (sklearn default min(200, n)). */
  readonly batchSize?: number;
  /** z-score both samples with the first sample's mean and sd (default true, as sbibm). */
  readonly zScore?: boolean;
}

export interface C2stResult {
  /** Mean held-out accuracy over the folds: 0.5 = indistinguishable, 1 = fully separable. */
  readonly accuracy: number;
  readonly foldAccuracies: number[];
  /** Epochs trained in each fold. */
  readonly epochs: number[];
  /** The classifier and protocol behind the number, in one line (state it beside the number). */
  readonly settings: string;
}

function toRows(
  name: string,
  a: tf.Tensor | ArrayLike<ArrayLike<number>>,
): { data: Float32Array; n: number; d: number } {
  if (a instanceof tf.Tensor) {
    if (a.rank !== 2) throw new ShapeError(name, '[n, dim]', a.shape);
    return { data: a.dataSync() as Float32Array, n: a.shape[0] as number, d: a.shape[1] as number };
  }
  const n = a.length;
  const d = n > 0 ? (a[0] as ArrayLike<number>).length : 0;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) data[i * d + j] = (a[i] as ArrayLike<number>)[j] as number;
  return { data, n, d };
}

/**
 * Classifier two-sample test (C2ST) with sbibm's protocol: an MLP classifier (ReLU, two hidden
 * layers of 10·dim units, logistic output, Adam, L2 α = 1e-4, minibatches of min(200, n), stopping
 * when the training loss has not improved by 1e-4 for 10 epochs, at most 10000 epochs — sklearn's
 * MLPClassifier defaults as sbibm calls it) trained to tell sample `a` (label 0) from sample `b`
 * (label 1), inputs z-scored with `a`'s mean and standard deviation, accuracy by 5-fold shuffled
 * cross-validation. Written with tfjs; weights Glorot-uniform from `rng`.
 */
export function c2st(
  a: tf.Tensor | ArrayLike<ArrayLike<number>>,
  b: tf.Tensor | ArrayLike<ArrayLike<number>>,
  options: C2stOptions,
): C2stResult {
  const A = toRows('a', a);
  const B = toRows('b', b);
  if (A.d !== B.d || A.d === 0) throw new ShapeError('b', `[m, ${A.d}] (same dim as a)`, [B.n, B.d]);
  const folds = options.folds ?? 5;
  const mult = options.hiddenMultiplier ?? 10;
  const maxEpochs = options.maxEpochs ?? 10000;
  const tol = options.tol ?? 1e-4;
  const patience = options.patience ?? 10;
  const lr = options.lr ?? 1e-3;
  const alpha = options.alpha ?? 1e-4;
  const zScore = options.zScore ?? true;
  const d = A.d;
  const n = A.n + B.n;
  if (!Number.isInteger(folds) || folds < 2 || folds > n)
    throw new ConfigError('folds', `must be an integer in [2, ${n}]`);
  // z-score with a's statistics
  const mean = new Float64Array(d);
  const sd = new Float64Array(d).fill(1);
  if (zScore) {
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < A.n; i++) m += A.data[i * d + j] as number;
      m /= A.n;
      let v = 0;
      for (let i = 0; i < A.n; i++) v += ((A.data[i * d + j] as number) - m) ** 2;
      mean[j] = m;
      sd[j] = Math.sqrt(v / Math.max(1, A.n - 1)) || 1;
    }
  }
  const X = new Float32Array(n * d);
  const Y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const src = i < A.n ? A.data : B.data;
    const r = i < A.n ? i : i - A.n;
    for (let j = 0; j < d; j++)
      X[i * d + j] = ((src[r * d + j] as number) - (mean[j] as number)) / (sd[j] as number);
    Y[i] = i < A.n ? 0 : 1;
  }
  const perm = options.rng.split('c2st/folds').permutation(n);
  const h = mult * d;
  const sizes = [d, h, h, 1];
  const foldAcc: number[] = [];
  const epochsRun: number[] = [];
  for (let f = 0; f < folds; f++) {
    const lo = Math.floor((f * n) / folds);
    const hi = Math.floor(((f + 1) * n) / folds);
    const test = Array.from(perm.subarray(lo, hi));
    const train = [...Array.from(perm.subarray(0, lo)), ...Array.from(perm.subarray(hi))];
    const gather = (ids: number[]) => {
      const x = new Float32Array(ids.length * d);
      const y = new Float32Array(ids.length);
      ids.forEach((id, k) => {
        x.set(X.subarray(id * d, id * d + d), k * d);
        y[k] = Y[id] as number;
      });
      return { x, y };
    };
    const initRng = options.rng.split(`c2st/init${f}`);
    const weights: tf.Variable[] = [];
    const biases: tf.Variable[] = [];
    for (let l = 0; l < 3; l++) {
      const fanIn = sizes[l] as number;
      const fanOut = sizes[l + 1] as number;
      const bound = Math.sqrt((l === 2 ? 2 : 6) / (fanIn + fanOut)); // sklearn's Glorot factor
      const w = new Float32Array(fanIn * fanOut);
      for (let k = 0; k < w.length; k++) w[k] = (2 * initRng.uniform() - 1) * bound;
      const bb = new Float32Array(fanOut);
      for (let k = 0; k < bb.length; k++) bb[k] = (2 * initRng.uniform() - 1) * bound;
      weights.push(tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true));
      biases.push(tf.variable(tf.tensor1d(bb), true));
    }
    const logits = (x: tf.Tensor): tf.Tensor => {
      let z: tf.Tensor = x;
      for (let l = 0; l < 3; l++) {
        z = tf.add(tf.matMul(z as tf.Tensor2D, weights[l] as tf.Tensor2D), biases[l] as tf.Tensor);
        if (l < 2) z = tf.relu(z);
      }
      return tf.reshape(z, [-1]);
    };
    const opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
    const bs = Math.min(options.batchSize ?? 200, train.length);
    const epochRng = options.rng.split(`c2st/epochs${f}`);
    let best = Number.POSITIVE_INFINITY;
    let noImprove = 0;
    let epoch = 0;
    const vars = [...weights, ...biases];
    try {
      while (epoch < maxEpochs) {
        epoch++;
        const order = epochRng.permutation(train.length);
        let total = 0;
        for (let s = 0; s < train.length; s += bs) {
          const ids = Array.from(
            order.subarray(s, Math.min(train.length, s + bs)),
            (k) => train[k] as number,
          );
          const { x, y } = gather(ids);
          const m = ids.length;
          const lossT = tf.tidy(() => {
            const xt = tf.tensor2d(x, [m, d]);
            const yt = tf.tensor1d(y);
            return opt.minimize(
              () => {
                const z = logits(xt);
                // log-loss from logits: softplus(z) − y z, stable
                const ll = tf.mean(tf.sub(tf.softplus(z), tf.mul(yt, z)));
                const l2 = tf.addN(weights.map((w) => tf.sum(tf.square(w))));
                return tf.add(ll, tf.mul(l2, (0.5 * alpha) / m)) as tf.Scalar;
              },
              true,
              vars,
            ) as tf.Scalar;
          });
          total += (lossT.dataSync()[0] as number) * m;
          lossT.dispose();
        }
        const epochLoss = total / train.length;
        if (epochLoss > best - tol) noImprove++;
        else noImprove = 0;
        if (epochLoss < best) best = epochLoss;
        if (noImprove >= patience) break;
      }
      const { x, y } = gather(test);
      const pred = tf.tidy(() => logits(tf.tensor2d(x, [test.length, d])).dataSync());
      let correct = 0;
      for (let i = 0; i < test.length; i++) if (((pred[i] as number) > 0 ? 1 : 0) === y[i]) correct++;
      foldAcc.push(correct / test.length);
      epochsRun.push(epoch);
    } finally {
      opt.dispose();
      tf.dispose(vars);
    }
  }
  const accuracy = foldAcc.reduce((s, v) => s + v, 0) / folds;
  return {
    accuracy,
    foldAccuracies: foldAcc,
    epochs: epochsRun,
    settings: `C2ST: MLP ${d}→${h}→${h}→1 (ReLU, ${mult}·dim units), Adam lr ${lr}, L2 ${alpha}, batch ${Math.min(options.batchSize ?? 200, n)}, stop after ${patience} epochs without loss improvement > ${tol} (max ${maxEpochs}), ${folds}-fold shuffled CV, ${zScore ? 'inputs z-scored by the first sample' : 'raw inputs'}; n = ${A.n} vs ${B.n}`,
  };
}
