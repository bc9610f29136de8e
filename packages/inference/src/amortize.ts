import { type Encoder, type NamedTensors, toVariables } from '@gcvi/encoders';
import {
  type AnyObjective,
  adam,
  fit as fitObjective,
  type Optimizer,
  type Params,
  type Schedule,
} from '@gcvi/objectives';
import { ConfigError, createRng, type Rng, type Seed, ShapeError, type Simulator } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { defaultEncoder } from './default-encoder.js';
import type { Family } from './families/types.js';
import { AmortizedPosterior } from './posterior.js';
import { type InputScaling, learnScaling, standardizeInput } from './standardize.js';

/** The simulator contract of gcvi (`@gcvi/runtime`'s `Simulator`; `@gcvi/datasets` builds them). */
export type { Simulator };

export interface AmortizeOptions {
  readonly simulator: Simulator;
  readonly family: Family;
  /**
   * The encoder x ↦ η (its `outputSize` must be `family.outputSize`), or `{ hiddenSizes }` for the
   * default: a ReLU network with biases, NTK parameterization, last layer zero at init
   * (default hidden sizes [64, 64]). The default needs flat observations `[n, features]`.
   */
  readonly encoder?: Encoder | { readonly hiddenSizes: readonly number[] };
  /** Simulator key of θ (default `'theta'`); `[n]` or `[n, dim]`. */
  readonly theta?: string;
  /** Simulator key of x (default `'x'`). */
  readonly x?: string;
  /**
   * Standardize observations per feature with a mean and standard deviation learned once from a
   * pilot batch (fresh-simulation training: `pilotSize` extra draws; fixed budget: the training
   * split). Saved with the posterior. Default true.
   */
  readonly standardize?: boolean;
  /** Pilot batch size for the fresh-simulation regime (default 1000). */
  readonly pilotSize?: number;
  /** Root seed of every stream (init, simulations, training); default 0. */
  readonly seed?: Seed;
}

export interface TrainProgress {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** Fixed budget only: completed epochs and the last validation loss. */
  readonly epoch?: number;
  readonly validationLoss?: number;
}

export interface TrainOptions {
  /**
   * Fixed simulation budget (sbibm's regime): simulate this many pairs once, hold out
   * `validationFraction`, train in epochs over the rest with early stopping on the validation
   * loss, and keep the parameters of the best epoch. Give exactly one of `simulations`, `steps`.
   */
  readonly simulations?: number;
  /**
   * Fresh simulations every step (the paper's L_P): `steps` steps of `batchSize` new pairs each.
   */
  readonly steps?: number;
  /** Pairs per step (default 100). */
  readonly batchSize?: number;
  /** Objective name or value (default `'forward-kl'`, the expected forward KL L_P). */
  readonly objective?: AnyObjective | string;
  readonly objectiveOptions?: unknown;
  /** Default `adam({ lr: learningRate })`. */
  readonly optimizer?: Optimizer;
  /** Learning rate of the default optimizer (default 1e-3; ignored when `optimizer` or `schedule` is given). */
  readonly learningRate?: number;
  readonly schedule?: Schedule;
  /** Rescale gradients to this global norm when larger (default 5, as sbi). */
  readonly clipNorm?: number;
  /** Fixed budget: share held out for validation (default 0.1). */
  readonly validationFraction?: number;
  /**
   * Fixed budget: stop after `patience` epochs without a lower validation loss (default 20, as
   * sbi); `false` trains all `maxEpochs`.
   */
  readonly earlyStopping?: false | { readonly patience?: number };
  /** Fixed budget: at most this many epochs (default 200). */
  readonly maxEpochs?: number;
  readonly onProgress?: (p: TrainProgress) => void;
  /** Every this many steps (default 100). */
  readonly progressEvery?: number;
  /** Abort: training stops after the current step and `train` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface TrainResult {
  readonly regime: 'fresh' | 'budget';
  /** Steps taken in this call. */
  readonly steps: number;
  readonly skippedSteps: number;
  /** Training loss by step (every step). */
  readonly history: { readonly step: readonly number[]; readonly loss: readonly number[] };
  /** Fixed budget: epochs run, validation loss per epoch, the best epoch and whether it stopped early. */
  readonly epochs?: number;
  readonly validationLoss?: readonly number[];
  readonly bestEpoch?: number;
  readonly stoppedEarly?: boolean;
  /** Simulations used in this call (pilot batch included). */
  readonly simulations: number;
}

/** An amortized estimator: `train` it, then take its `posterior()`. */
export interface AmortizedEstimator {
  readonly family: Family;
  /** The encoder (built at the first `train` when the default is used). */
  readonly encoder: Encoder | undefined;
  train(options: TrainOptions): Promise<TrainResult>;
  /** A trained posterior (a copy of the current weights; independent of later training). */
  posterior(): AmortizedPosterior;
  /** Free the estimator's variables. */
  dispose(): void;
}

function positiveInt(field: string, v: unknown, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(field, `must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/**
 * Step 1 of 3: set up amortized inference for a simulator and a family. Nothing is simulated
 * until `train`.
 */
export function amortize(options: AmortizeOptions): AmortizedEstimator {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'must be an object');
  const { simulator, family } = options;
  if (!simulator || typeof simulator.sample !== 'function') {
    throw new ConfigError('simulator', 'must have sample(n, rng) returning named tensors');
  }
  if (!family || typeof family.distribution !== 'function') {
    throw new ConfigError('family', 'must be a Family (e.g. gaussianDiag({ dim }))');
  }
  const thetaKey = options.theta ?? 'theta';
  const xKey = options.x ?? 'x';
  const standardize = options.standardize ?? true;
  const pilotSize = positiveInt('pilotSize', options.pilotSize, 1000);
  const root = createRng(options.seed ?? 0);

  let encoder: Encoder | undefined =
    options.encoder && 'apply' in options.encoder ? (options.encoder as Encoder) : undefined;
  const hidden = options.encoder && !('apply' in options.encoder) ? options.encoder.hiddenSizes : undefined;
  if (encoder && encoder.outputSize !== family.outputSize) {
    throw new ConfigError(
      'encoder.outputSize',
      `is ${encoder.outputSize}, but the ${family.kind} family consumes ${family.outputSize} encoder outputs`,
    );
  }
  let vars: Record<string, tf.Variable> | undefined;
  let scaling: InputScaling | null = null;
  let xShape: number[] | undefined;
  let calls = 0;

  /** Simulate n pairs as float32 { theta [n, dim], x [n, ...xShape] }. */
  function simulate(n: number, rng: Rng): { theta: tf.Tensor; x: tf.Tensor } {
    const out = simulator.sample(n, rng);
    const th = out?.[thetaKey];
    const x = out?.[xKey];
    try {
      if (!(th instanceof tf.Tensor)) {
        throw new ConfigError(
          'theta',
          `simulator.sample() returned no tensor under key '${thetaKey}' (keys: ${Object.keys(out ?? {}).join(', ')})`,
        );
      }
      if (!(x instanceof tf.Tensor)) {
        throw new ConfigError(
          'x',
          `simulator.sample() returned no tensor under key '${xKey}' (keys: ${Object.keys(out ?? {}).join(', ')})`,
        );
      }
      return tf.tidy(() => {
        let t = th.dtype === 'float32' ? th : tf.cast(th, 'float32');
        if (t.rank === 1) t = tf.reshape(t, [n, 1]);
        if (t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== family.dim) {
          throw new ShapeError(
            `simulator '${thetaKey}'`,
            `[${n}, ${family.dim}] (family dim ${family.dim})`,
            th.shape,
          );
        }
        if (x.shape[0] !== n) throw new ShapeError(`simulator '${xKey}'`, `[${n}, ...]`, x.shape);
        return { theta: tf.clone(t), x: x.dtype === 'float32' ? tf.clone(x) : tf.cast(x, 'float32') };
      });
    } finally {
      for (const t of Object.values(out ?? {})) if (t instanceof tf.Tensor) t.dispose();
    }
  }

  function setup(pilotX: tf.Tensor): void {
    xShape = pilotX.shape.slice(1);
    if (standardize) scaling = learnScaling(pilotX);
    if (!encoder) {
      if (xShape.length !== 1) {
        throw new ConfigError(
          'encoder',
          `the default encoder needs flat observations [n, features]; x has shape [n, ${xShape.join(', ')}]: pass an encoder`,
        );
      }
      encoder = defaultEncoder(xShape[0]!, family.outputSize, hidden ?? [64, 64]);
    }
    const init = root.split('init');
    const e = toVariables(encoder.init(init.split('encoder')), { disposeInputs: true });
    const f = toVariables(family.initParams(init.split('family')), { disposeInputs: true });
    vars = {};
    for (const [n, v] of Object.entries(e)) vars[`encoder/${n}`] = v;
    for (const [n, v] of Object.entries(f)) vars[`family/${n}`] = v;
  }

  const split = (params: Params): { enc: NamedTensors; fam: NamedTensors } => {
    const enc: NamedTensors = {};
    const fam: NamedTensors = {};
    for (const [k, v] of Object.entries(params)) {
      if (k.startsWith('encoder/')) enc[k.slice(8)] = v;
      else fam[k.slice(7)] = v;
    }
    return { enc, fam };
  };
  const variational = (params: Params, x: tf.Tensor) => {
    const { enc, fam } = split(params);
    const eta = encoder!.apply(enc, standardizeInput(x, scaling));
    return family.distribution(eta, fam);
  };

  /** Mean −log q(θ | x) over a fixed set, in chunks, outside the gradient. */
  function meanNll(theta: tf.Tensor, x: tf.Tensor): number {
    const n = theta.shape[0] as number;
    let total = 0;
    for (let s = 0; s < n; s += 1000) {
      const m = Math.min(1000, n - s);
      total += tf.tidy(() => {
        const q = variational(vars!, tf.slice(x, [s], [m]));
        try {
          return tf.sum(q.logProb(tf.slice(theta, [s], [m]))).dataSync()[0] as number;
        } finally {
          q.dispose();
        }
      });
    }
    return -total / n;
  }

  return {
    family,
    get encoder() {
      return encoder;
    },
    async train(t: TrainOptions): Promise<TrainResult> {
      if (t === null || typeof t !== 'object') throw new ConfigError('train', 'options must be an object');
      if ((t.simulations === undefined) === (t.steps === undefined)) {
        throw new ConfigError(
          'train',
          'give exactly one of `simulations` (fixed budget) or `steps` (fresh simulations)',
        );
      }
      const batchSize = positiveInt('batchSize', t.batchSize, 100);
      const call = calls++;
      const rng = root.split(`train${call}`);
      const progressEvery = positiveInt('progressEvery', t.progressEvery, 100);
      const common = {
        variational,
        objective: t.objective ?? 'forward-kl',
        objectiveOptions: t.objectiveOptions,
        optimizer: t.optimizer ?? adam({ lr: t.learningRate ?? 1e-3 }),
        schedule: t.schedule,
        batchSize,
        clipNorm: t.clipNorm ?? 5,
        rng: rng.split('fit'),
      };
      if (t.steps !== undefined) {
        const steps = positiveInt('steps', t.steps);
        let sims = 0;
        if (!vars) {
          const pilot = simulate(pilotSize, rng.split('pilot'));
          sims += pilotSize;
          try {
            setup(pilot.x);
          } finally {
            tf.dispose([pilot.theta, pilot.x]);
          }
        }
        const res = await fitObjective({
          ...common,
          params: vars!,
          steps,
          problem: { simulate: (n, r) => simulate(n, r as Rng) },
          signal: t.signal,
          callbacks: {
            progressEvery,
            onProgress: t.onProgress
              ? (p) => t.onProgress!({ step: p.step, steps: p.steps, loss: p.loss })
              : undefined,
          },
        });
        return {
          regime: 'fresh',
          steps: res.stepsDone,
          skippedSteps: res.skippedSteps,
          history: { step: res.history.step, loss: res.history.loss },
          simulations: sims + res.stepsDone * batchSize,
        };
      }
      // Fixed budget.
      const total = positiveInt('simulations', t.simulations);
      const vf = t.validationFraction ?? 0.1;
      if (typeof vf !== 'number' || !(vf > 0 && vf < 1)) {
        throw new ConfigError('validationFraction', `must be in (0, 1), got ${String(vf)}`);
      }
      const nVal = Math.max(1, Math.round(vf * total));
      const nTrain = total - nVal;
      if (nTrain < batchSize) {
        throw new ConfigError(
          'simulations',
          `${total} simulations leave ${nTrain} for training after validation, fewer than batchSize ${batchSize}`,
        );
      }
      const patience =
        t.earlyStopping === false
          ? Number.POSITIVE_INFINITY
          : positiveInt('earlyStopping.patience', t.earlyStopping?.patience, 20);
      const maxEpochs = positiveInt('maxEpochs', t.maxEpochs, 200);
      const all = simulate(total, rng.split('simulations'));
      const perm = rng.split('split').permutation(total);
      const idx = (a: Int32Array) => tf.tensor1d(a, 'int32');
      const [trTheta, trX, vaTheta, vaX] = tf.tidy(() => {
        const tr = idx(perm.subarray(0, nTrain));
        const va = idx(perm.subarray(nTrain));
        return [
          tf.gather(all.theta, tr),
          tf.gather(all.x, tr),
          tf.gather(all.theta, va),
          tf.gather(all.x, va),
        ];
      }) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      tf.dispose([all.theta, all.x]);
      const stepsPerEpoch = Math.floor(nTrain / batchSize);
      const epochRng = rng.split('epochs');
      let order = epochRng.permutation(nTrain);
      let pos = 0;
      const validation: number[] = [];
      let best = Number.POSITIVE_INFINITY;
      let bestEpoch = 0;
      let bestParams: Record<string, tf.Tensor> | undefined;
      let stoppedEarly = false;
      const stop = new AbortController();
      const earlyStop = new Error('early stop');
      const onUserAbort = () => stop.abort(t.signal!.reason ?? new Error('train aborted'));
      if (t.signal?.aborted) onUserAbort();
      t.signal?.addEventListener('abort', onUserAbort, { once: true });
      let stepsDone = 0;
      let skipped = 0;
      const history = { step: [] as number[], loss: [] as number[] };
      try {
        if (!vars) setup(trX);
        const res = await fitObjective({
          ...common,
          params: vars!,
          steps: maxEpochs * stepsPerEpoch,
          problem: {
            simulate: (n) => {
              if (pos + n > stepsPerEpoch * batchSize) {
                order = epochRng.permutation(nTrain);
                pos = 0;
              }
              const ids = idx(order.subarray(pos, pos + n));
              pos += n;
              const out = { theta: tf.gather(trTheta, ids), x: tf.gather(trX, ids) };
              ids.dispose();
              return out;
            },
          },
          signal: stop.signal,
          callbacks: {
            onStep: (info) => {
              stepsDone = info.step;
              skipped = info.skippedSteps;
              history.step.push(info.step);
              history.loss.push(info.loss);
            },
            every: [
              {
                every: stepsPerEpoch,
                fn: (info) => {
                  const epoch = info.step / stepsPerEpoch;
                  const v = meanNll(vaTheta, vaX);
                  validation.push(v);
                  if (v < best) {
                    best = v;
                    bestEpoch = epoch;
                    if (bestParams) tf.dispose(Object.values(bestParams));
                    bestParams = {};
                    for (const [k, p] of Object.entries(vars!)) bestParams[k] = tf.clone(p);
                  } else if (epoch - bestEpoch >= patience) {
                    stoppedEarly = true;
                    stop.abort(earlyStop);
                  }
                  t.onProgress?.({
                    step: info.step,
                    steps: maxEpochs * stepsPerEpoch,
                    loss: info.loss,
                    epoch,
                    validationLoss: v,
                  });
                },
              },
            ],
          },
        }).catch((e: unknown) => {
          if (e === earlyStop) return undefined;
          throw e;
        });
        if (res) {
          stepsDone = res.stepsDone;
          skipped = res.skippedSteps;
        }
        if (bestParams) for (const [k, p] of Object.entries(bestParams)) vars![k]!.assign(p);
      } finally {
        t.signal?.removeEventListener('abort', onUserAbort);
        if (bestParams) tf.dispose(Object.values(bestParams));
        tf.dispose([trTheta, trX, vaTheta, vaX]);
      }
      return {
        regime: 'budget',
        steps: stepsDone,
        skippedSteps: skipped,
        history,
        epochs: validation.length,
        validationLoss: validation,
        bestEpoch,
        stoppedEarly,
        simulations: total,
      };
    },
    posterior(): AmortizedPosterior {
      if (!vars || !encoder || !xShape) throw new ConfigError('posterior', 'train the estimator first');
      const { enc, fam } = split(vars);
      const clone = (r: NamedTensors) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, tf.clone(v)]));
      const s = scaling as InputScaling | null;
      return new AmortizedPosterior({
        family,
        encoder,
        xShape,
        scaling: s ? { mean: tf.clone(s.mean), std: tf.clone(s.std) } : null,
        encoderParams: clone(enc),
        familyParams: clone(fam),
        keys: { theta: thetaKey, x: xKey },
      });
    },
    dispose() {
      if (vars) tf.dispose(Object.values(vars));
      vars = undefined;
      const s = scaling as InputScaling | null;
      if (s) tf.dispose([s.mean, s.std]);
      scaling = null;
    },
  };
}
