import type { SampleStream } from '@gcvi/distributions';
import { type Nsf, type NsfSpec, nsf } from '@gcvi/flows';
import { ConfigError, createRng, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import type { Family, FamilyDistribution } from './types.js';
import { checkDim, checkEta } from './util.js';

export interface NsfFamilyOptions {
  /** Size of θ. */
  readonly dim: number;
  /**
   * Size of the embedding of x the encoder produces and the flow's conditioners read as their
   * context (the encoder's `outputSize`; default 2·dim, at least 4).
   */
  readonly contextDim?: number;
  /** Coupling layers (default 5, sbi's NSF default). */
  readonly layers?: number;
  /** Spline bins per moved coordinate (default 10, sbi's default). */
  readonly bins?: number;
  /** Hidden width of each conditioner (default 50, sbi's default). */
  readonly hidden?: number;
  /** Hidden layers per conditioner (default 2). */
  readonly depth?: number;
  /** Splines act on [−bound, bound], identity outside (default 3, sbi's tail bound). */
  readonly bound?: number;
  /**
   * Support of a box prior: the flow models logit((θ − low)/(high − low)), so q puts no mass outside
   * the box and every draw lies inside it (use it for uniform priors).
   */
  readonly box?: { readonly low: readonly number[]; readonly high: readonly number[] } | null;
  /**
   * Fixed affine map of θ (after the logit when `box` is set) before the flow, e.g. the prior's
   * mean and sd: the flow then starts near the right scale. Default none.
   */
  readonly standardize?: { readonly mean: readonly number[]; readonly std: readonly number[] } | null;
  /** Scale of the conditioners' last-layer initial weights (default 0.01). */
  readonly initScale?: number;
  /** Seed of the fixed permutations between coupling layers (default 0). */
  readonly permutationSeed?: number;
  /**
   * A trainable LU-parameterized linear map after each coupling layer, starting at the identity
   * (sbi's NSF; default true, dim ≥ 2).
   */
  readonly lu?: boolean;
  /** Draws used by `mean()` and `mode()`, which a flow has no closed form for (default 2000). */
  readonly summaryDraws?: number;
}

/** Tile `eta` `[B, C]` to `[L·B, C]` (rows ordered l-major: row l·B + b is observation b). */
function tileRows(eta: tf.Tensor, times: number): tf.Tensor2D {
  return (times === 1 ? eta : tf.tile(eta, [times, 1])) as tf.Tensor2D;
}

/**
 * A conditional rational-quadratic neural spline coupling flow (`nsf` of `@gcvi/flows`, sbi's
 * default NPE density estimator) as a family: the encoder maps x to an embedding of `contextDim`
 * numbers, and every coupling layer's conditioner reads the kept coordinates and that embedding.
 * The flow's weights are the family's own parameters (`paramSpecs`), trained with the encoder and
 * saved with the posterior under `family/<name>`.
 *
 * Not an exponential family: L_P is not convex in the encoder outputs and the paper's guarantee
 * does not apply; use it for posteriors no Gaussian fits (crescents, several modes). `logProb` and
 * `sample` are exact; `mean()` and `mode()` are estimates from `summaryDraws` draws of a fixed
 * stream (the mean of the draws, and the draw of highest density).
 */
export function nsfFamily(options: NsfFamilyOptions): Family {
  const dim = checkDim('nsfFamily.dim', options?.dim);
  const contextDim = checkDim('nsfFamily.contextDim', options.contextDim ?? Math.max(4, 2 * dim));
  const summaryDraws = checkDim('nsfFamily.summaryDraws', options.summaryDraws ?? 2000);
  let flow: Nsf;
  try {
    flow = nsf({
      dim,
      contextDim,
      layers: options.layers,
      bins: options.bins,
      hidden: options.hidden,
      depth: options.depth,
      bound: options.bound,
      box: options.box ?? null,
      standardize: options.standardize ?? null,
      initScale: options.initScale,
      permutationSeed: options.permutationSeed,
      lu: options.lu,
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new ConfigError(`nsfFamily.${e.field}`, e.message.slice(e.field.length + 2), { cause: e });
    }
    throw e;
  }
  const fs: NsfSpec = flow.spec;
  const spec = {
    kind: 'nsf',
    dim,
    contextDim,
    layers: fs.layers,
    bins: fs.bins,
    hidden: fs.hidden,
    depth: fs.depth,
    bound: fs.bound,
    box: fs.box,
    standardize: fs.standardize,
    initScale: fs.initScale,
    permutationSeed: fs.permutationSeed,
    lu: fs.lu,
    summaryDraws,
  };
  const names = Object.keys(flow.paramShapes);
  return {
    kind: spec.kind,
    spec,
    dim,
    eventShape: [dim],
    outputSize: contextDim,
    exponentialFamily: false,
    circular: new Array(dim).fill(false),
    paramSpecs: names.map((name) => ({ name, shape: [...(flow.paramShapes[name] as number[])] })),
    initParams: (rng: Rng) => flow.init(rng),
    distribution(eta, params): FamilyDistribution {
      const b = checkEta(spec.kind, eta, contextDim);
      for (const name of names) {
        if (!params[name]) throw new ConfigError(`family/${name}`, 'nsf family: missing trained parameter');
      }
      const drawSummary = (): { theta: tf.Tensor2D; logProb: tf.Tensor1D } =>
        tf.tidy(() => {
          const r = createRng(0).split('nsf-summary');
          return flow.sampleAndLogProb(params, summaryDraws * b, tileRows(eta, summaryDraws), r);
        });
      return {
        batchShape: [b],
        eventShape: [dim],
        logProb(theta) {
          if (theta.rank < 2 || theta.shape[theta.rank - 1] !== dim || theta.shape[theta.rank - 2] !== b) {
            throw new ShapeError('nsf family: theta', `[..., ${b}, ${dim}]`, theta.shape);
          }
          return tf.tidy(() => {
            const lead = theta.shape.slice(0, -2);
            const times = lead.reduce((a, v) => a * v, 1);
            const flat = tf.reshape(theta, [times * b, dim]);
            const lp = flow.logProb(params, flat, tileRows(eta, times));
            return tf.reshape(lp, [...lead, b]);
          });
        },
        sample(n, rng: SampleStream) {
          if (!Number.isInteger(n) || n < 1) throw new ConfigError('n', `must be an integer ≥ 1, got ${n}`);
          return tf.tidy(() => {
            // The flow draws only through `normalTensor`, which every SampleStream has.
            const th = flow.sample(params, n * b, tileRows(eta, n), rng as unknown as Rng);
            return tf.reshape(th, [n, b, dim]);
          });
        },
        mean() {
          return tf.tidy(() => {
            const { theta } = drawSummary();
            return tf.mean(tf.reshape(theta, [summaryDraws, b, dim]), 0);
          });
        },
        mode() {
          return tf.tidy(() => {
            const { theta, logProb } = drawSummary();
            const best = tf.argMax(tf.reshape(logProb, [summaryDraws, b]), 0); // [B]
            const rows = tf.add(
              tf.mul(tf.cast(best, 'int32'), tf.scalar(b, 'int32')),
              tf.range(0, b, 1, 'int32'),
            );
            return tf.gather(theta, rows);
          });
        },
        dispose() {},
      };
    },
  };
}
