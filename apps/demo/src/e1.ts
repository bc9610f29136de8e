/**
 * E1 (DESIGN §2, the paper's "canonical" experiment) as a stepwise trainer for the demo: the NTK
 * network of one width and its linearized twin, trained side by side, in lockstep, on the same
 * stream of fresh simulated pairs, evaluated on one fixed test set against the exact posterior.
 *
 * Everything comes from the packages' public entry points: `dense` / `linearize` (encoders),
 * `VonMises` (distributions), `fit` with the `forward-kl` objective, `adam` and the inverse-time
 * schedule (objectives), the simulator and its exact posterior (datasets). This module touches
 * no DOM, so the Web Worker and the Node speed script and tests run the same code.
 *
 * Lockstep: each model runs its own `fit` (so skip-on-NaN, the batch stream and Adam are the
 * trainer's own), both on `createRng(seed).split('train')`, i.e. the same batches. Their `onStep`
 * callbacks meet at a barrier; the trainer lets both through one step at a time for as many steps
 * as `advance(n)` asks, and holds them between calls, when the parameters can be read safely.
 */
import { canonicalSimulator } from '@gcvi/datasets';
import { VonMises } from '@gcvi/distributions';
import { dense, linearize, type NamedTensors } from '@gcvi/encoders';
import {
  adam,
  fit,
  forwardKl,
  inverseTimeLr,
  type Params,
  type Problem,
  type StepInfo,
} from '@gcvi/objectives';
import { ConfigError, createRng, type Rng } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { DEMO_DEFAULTS, type E1DemoConfig } from './config.js';

export { DEMO_DEFAULTS, type E1DemoConfig, WIDTHS } from './config.js';

export const MODELS = ['full', 'linear'] as const;
export type Model = (typeof MODELS)[number];

export interface EvalRow {
  readonly step: number;
  readonly full: number;
  readonly linear: number;
}

export interface StepReport {
  /** Steps completed by both models. */
  readonly step: number;
  /** Training losses (mean −log q over the step's batch) of the last step, per model. */
  readonly loss: Record<Model, number>;
  /** Skipped (non-finite) steps so far, per model. */
  readonly skipped: Record<Model, number>;
  /** Learning rate of the last step. */
  readonly lr: number;
  /** Test-NLL evaluations made during this call (every `evalEvery` steps). */
  readonly evals: EvalRow[];
  /** Whether `maxSteps` has been reached. */
  readonly done: boolean;
}

export interface PosteriorCurves {
  /** Angle of the observation x = (cos φ, sin φ). */
  readonly phi: number;
  /** Grid of θ in (0, 2π) (bin centres). */
  readonly theta: number[];
  /** Densities on the grid: q of each model and the exact posterior. */
  readonly full: number[];
  readonly linear: number[];
  readonly exact: number[];
}

export interface E1Trainer {
  readonly config: E1DemoConfig;
  /** Mean −log p(θ | x) over the test set under the exact posterior (the red line). */
  readonly exactNll: number;
  /** The evaluation at step 0 (both models start at f = 0, so NLL = log 2π up to etaOffset). */
  readonly initial: EvalRow;
  /** Steps completed by both models. */
  readonly step: number;
  /** Train both models `n` more steps (fewer if `maxSteps` is reached). */
  advance(n: number): Promise<StepReport>;
  /** Test NLL of both models now. */
  testNll(): EvalRow;
  /** q(θ | x) of both models and the exact posterior for x at angle `phi`, on `nGrid` bins. */
  posterior(phi: number, nGrid?: number): PosteriorCurves;
  /** Stop training and free every tensor. */
  dispose(): Promise<void>;
}

function checkConfig(c: E1DemoConfig): void {
  const posInt = (k: keyof E1DemoConfig) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ConfigError(k, `must be a positive integer, got ${String(v)}`);
    }
  };
  for (const k of ['width', 'batchSize', 'testSize', 'evalEvery', 'maxSteps'] as const) posInt(k);
  for (const k of ['seed', 'dataSeed'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 0) {
      throw new ConfigError(k, `must be a non-negative integer, got ${String(c[k])}`);
    }
  }
  for (const k of ['lr0', 'lrScale', 'sigma'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] > 0)) throw new ConfigError(k, `must be positive, got ${c[k]}`);
  }
  if (!(Number.isFinite(c.etaOffset) && c.etaOffset >= 0)) {
    throw new ConfigError('etaOffset', `must be ≥ 0, got ${c.etaOffset}`);
  }
}

/** Released once per step by the trainer; resolves `fit`'s onStep. */
interface Waiter {
  info: StepInfo;
  release: () => void;
}

/**
 * Build the trainer: test set and its exact NLL (from `dataSeed`), φ0 (from `seed`), the
 * linearized twin at φ0, and one `fit` per model, held before their first step.
 */
export function createE1Trainer(options: Partial<E1DemoConfig> = {}): E1Trainer {
  const config: E1DemoConfig = { ...DEMO_DEFAULTS, ...options };
  checkConfig(config);
  const sim = canonicalSimulator({ sigma: config.sigma });
  const test = sim.testSet(config.testSize, createRng(config.dataSeed).split('demo/test'));
  const thetaTest = tf.reshape(test.theta, [config.testSize]);
  test.theta.dispose();
  const xTest = test.x;
  const exactNll = test.exactNll;

  const encoder = dense({ inputSize: 2, hiddenSizes: [config.width], outputSize: 2 });
  const root = createRng(config.seed);
  const params0 = encoder.init(root.split('init'));
  const lin = linearize(encoder, params0);
  const applyOf: Record<Model, (p: NamedTensors, x: tf.Tensor) => tf.Tensor> = {
    full: (p, x) => encoder.apply(p, x),
    linear: (p, x) => lin.apply(p, x),
  };
  const eta = (model: Model, p: NamedTensors, x: tf.Tensor) => tf.add(applyOf[model](p, x), config.etaOffset);
  const q = (model: Model, p: NamedTensors, x: tf.Tensor) =>
    VonMises.fromNatural(eta(model, p, x), { validateArgs: false });

  // θ as [n]: VonMises has event shape [], one angle per observation.
  const problem: Problem = {
    simulate(n, rng) {
      const { theta, x } = sim.simulate(n, rng as Rng);
      const flat = tf.reshape(theta, [n]);
      theta.dispose();
      return { theta: flat, x };
    },
  };

  const schedule = inverseTimeLr(config.lr0, config.lrScale);
  const vars: Record<Model, Record<string, tf.Variable>> = { full: {}, linear: {} };
  let serial = 0;
  for (const m of MODELS) {
    for (const [k, v] of Object.entries(params0)) {
      const name = `demo_${m}_${k}_${nextTrainerId}_${serial++}`;
      // Inside tidy, so the clone (the variable's initial value) is not left behind.
      vars[m][k] = tf.tidy(() => tf.variable(tf.clone(v), true, name));
    }
  }
  nextTrainerId += 1;

  const nllOf = (model: Model, p: NamedTensors): number =>
    tf.tidy(() => -(tf.mean(q(model, p, xTest).logProb(thetaTest)).dataSync()[0] as number));
  const evalNow = (step: number): EvalRow => ({
    step,
    full: nllOf('full', vars.full),
    linear: nllOf('linear', vars.linear),
  });

  const initial = evalNow(0);
  const abort = new AbortController();
  const waiting: Partial<Record<Model, Waiter>> = {};
  let step = 0;
  let target = 0;
  let failure: unknown;
  let finished = false;
  let current:
    | { resolve: (r: StepReport) => void; reject: (e: unknown) => void; evals: EvalRow[] }
    | undefined;
  const last = {
    loss: { full: Number.NaN, linear: Number.NaN } as Record<Model, number>,
    skipped: { full: 0, linear: 0 } as Record<Model, number>,
    lr: schedule.lr(0),
  };

  const report = (evals: EvalRow[]): StepReport => ({
    step,
    loss: { ...last.loss },
    skipped: { ...last.skipped },
    lr: last.lr,
    evals,
    done: step >= config.maxSteps,
  });

  const releaseAll = () => {
    for (const m of MODELS) {
      const w = waiting[m];
      delete waiting[m];
      w?.release();
    }
  };

  /** Both models have finished step `step + 1`: record it, then let them go on or hold them. */
  const meet = () => {
    const wf = waiting.full!;
    const wl = waiting.linear!;
    if (wf.info.step !== wl.info.step) {
      throw new Error(`lockstep broken: full at step ${wf.info.step}, linear at ${wl.info.step}`);
    }
    step = wf.info.step;
    for (const m of MODELS) {
      last.loss[m] = waiting[m]!.info.loss;
      last.skipped[m] = waiting[m]!.info.skippedSteps;
    }
    last.lr = wf.info.lr;
    if (step % config.evalEvery === 0) current?.evals.push(evalNow(step));
    if (step < target) {
      releaseAll();
    } else if (current) {
      const c = current;
      current = undefined;
      c.resolve(report(c.evals));
    }
  };

  const arrive = (model: Model, info: StepInfo): Promise<void> =>
    new Promise<void>((release) => {
      if (abort.signal.aborted) {
        release();
        return;
      }
      waiting[model] = { info, release };
      if (waiting.full && waiting.linear) {
        try {
          meet();
        } catch (e) {
          fail(e);
        }
      }
    });

  const fail = (e: unknown) => {
    if (failure === undefined && !abort.signal.aborted) failure = e;
    if (current) {
      const c = current;
      current = undefined;
      c.reject(failure ?? e);
    }
  };

  let started = false;
  let runs: Promise<unknown>[] = [];
  // Both fits are held at the barrier after each step, so start them with one step granted.
  const start = () => {
    started = true;
    runs = MODELS.map((model) =>
      // biome-ignore lint/suspicious/noFocusedTests: `fit` is the training loop, not a focused test
      fit({
        params: vars[model],
        variational: (p: Params, x: tf.Tensor) => q(model, p as NamedTensors, x),
        objective: forwardKl,
        problem,
        optimizer: adam({ lr: config.lr0 }),
        schedule,
        steps: config.maxSteps,
        batchSize: config.batchSize,
        rng: root.split('train'),
        signal: abort.signal,
        historyEvery: config.maxSteps,
        callbacks: { onStep: (info) => arrive(model, info) },
      }).then(
        () => {
          finished = true;
          if (current && step >= config.maxSteps) {
            const c = current;
            current = undefined;
            c.resolve(report(c.evals));
          }
        },
        (e) => fail(e),
      ),
    );
  };

  return {
    config,
    exactNll,
    initial,
    get step() {
      return step;
    },
    advance(n: number): Promise<StepReport> {
      if (!Number.isInteger(n) || n <= 0)
        throw new ConfigError('steps', `must be a positive integer, got ${n}`);
      if (abort.signal.aborted) return Promise.reject(new Error('trainer disposed'));
      if (failure !== undefined) return Promise.reject(failure);
      if (current) return Promise.reject(new Error('advance() called while a previous call is running'));
      if (step >= config.maxSteps || finished) return Promise.resolve(report([]));
      target = Math.min(step + n, config.maxSteps);
      return new Promise<StepReport>((resolve, reject) => {
        current = { resolve, reject, evals: [] };
        if (!started) start();
        else releaseAll();
      });
    },
    testNll: () => evalNow(step),
    posterior(phi: number, nGrid = 360): PosteriorCurves {
      if (!Number.isFinite(phi)) throw new ConfigError('phi', `must be finite, got ${phi}`);
      if (!Number.isInteger(nGrid) || nGrid < 16) {
        throw new ConfigError('nGrid', `must be an integer ≥ 16, got ${nGrid}`);
      }
      const x1 = Math.cos(phi);
      const x2 = Math.sin(phi);
      const grid = sim.exactPosteriorGrid([[x1, x2]], { binWidth: (2 * Math.PI) / nGrid });
      const theta = Array.from(grid.theta);
      const density = (model: Model): number[] =>
        tf.tidy(() => {
          const xs = tf.tile(tf.tensor2d([[x1, x2]]), [theta.length, 1]);
          const lp = q(model, vars[model], xs).logProb(tf.tensor1d(theta));
          return Array.from(tf.exp(lp).dataSync());
        });
      return {
        phi,
        theta,
        full: density('full'),
        linear: density('linear'),
        exact: Array.from(grid.density[0]!),
      };
    },
    async dispose() {
      abort.abort(new Error('trainer disposed'));
      if (current) {
        const c = current;
        current = undefined;
        c.reject(new Error('trainer disposed'));
      }
      releaseAll();
      await Promise.allSettled(runs);
      for (const m of MODELS) for (const v of Object.values(vars[m])) v.dispose();
      lin.dispose();
      tf.dispose(Object.values(params0));
      tf.dispose([thetaTest, xTest]);
    },
  };
}

let nextTrainerId = 0;
