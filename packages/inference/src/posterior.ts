import { createRequire } from 'node:module';
import type { SampleStream } from '@gcvi/distributions';
import { type Encoder, encoderFromSpec, type NamedTensors } from '@gcvi/encoders';
import {
  ConfigError,
  FileFormatError,
  fromTensorData,
  readTensorFile,
  ShapeError,
  type TensorData,
  tensorData,
  writeTensorFile,
} from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { familyFromSpec } from './families/registry.js';
import type { Family, FamilyDistribution, FamilySpec } from './families/types.js';
import { type InputScaling, standardizeInput } from './standardize.js';

/** The `kind` of a saved posterior in the tensor file format of `@gcvi/runtime`. */
export const POSTERIOR_FILE_KIND = 'gcvi/posterior';
/**
 * Version of the saved-posterior layout inside the tensor file (meta fields and tensor names).
 * Readers of later versions keep reading version 1 files (a committed fixture tests it).
 */
export const POSTERIOR_FORMAT_VERSION = 1;

const require = createRequire(import.meta.url);
/** This package's version, written into saved posteriors. */
export const GCVI_INFERENCE_VERSION: string = (require('../package.json') as { version: string }).version;

/** What an observation may be given as: a tensor `[B, ...xShape]` or `[...xShape]`, or nested numbers. */
export type Observation = tf.Tensor | number | number[] | number[][] | number[][][];

/**
 * A trained amortized posterior q(θ | x): an encoder, a family, the input scaling and the trained
 * weights, independent of how it was trained. Methods take one observation (`[...xShape]`) or a
 * batch (`[B, ...xShape]`); results for one observation drop the batch axis.
 */
export class AmortizedPosterior {
  readonly family: Family;
  readonly encoder: Encoder;
  /** Shape of one observation. */
  readonly xShape: readonly number[];
  readonly scaling: InputScaling | null;
  /** Encoder weights by name (owned: `dispose` frees them). */
  readonly encoderParams: NamedTensors;
  /** The family's own trained parameters (owned). */
  readonly familyParams: NamedTensors;
  /** Simulator keys of θ and x (kept in saved files for tools that re-simulate). */
  readonly keys: { readonly theta: string; readonly x: string };

  constructor(options: {
    family: Family;
    encoder: Encoder;
    xShape: readonly number[];
    scaling: InputScaling | null;
    encoderParams: NamedTensors;
    familyParams: NamedTensors;
    keys?: { theta: string; x: string };
  }) {
    this.family = options.family;
    this.encoder = options.encoder;
    this.xShape = [...options.xShape];
    this.scaling = options.scaling;
    this.encoderParams = options.encoderParams;
    this.familyParams = options.familyParams;
    this.keys = options.keys ?? { theta: 'theta', x: 'x' };
    if (this.encoder.outputSize !== this.family.outputSize) {
      throw new ConfigError(
        'encoder.outputSize',
        `is ${this.encoder.outputSize}, but the ${this.family.kind} family consumes ${this.family.outputSize} outputs`,
      );
    }
  }

  /** Observation → `[B, ...xShape]` float32 and whether it was a single one. */
  private batchOf(x: Observation): { xb: tf.Tensor; single: boolean } {
    const t = x instanceof tf.Tensor ? x : tf.tensor(x as number[]);
    const r = this.xShape.length;
    let xb: tf.Tensor;
    let single: boolean;
    if (t.rank === r) {
      xb = tf.expandDims(t, 0);
      single = true;
    } else if (t.rank === r + 1) {
      xb = t;
      single = false;
    } else {
      throw new ShapeError('x', `[${this.xShape.join(', ')}] or [batch, ${this.xShape.join(', ')}]`, t.shape);
    }
    for (let i = 0; i < r; i++) {
      if (xb.shape[i + 1] !== this.xShape[i]) {
        throw new ShapeError('x', `[batch, ${this.xShape.join(', ')}]`, t.shape);
      }
    }
    if (xb.dtype !== 'float32') xb = tf.cast(xb, 'float32');
    return { xb, single };
  }

  /** Encoder outputs η for raw observations `[B, ...xShape]` (differentiable in the parameters). */
  encode(xb: tf.Tensor, encoderParams: NamedTensors = this.encoderParams): tf.Tensor {
    return tf.tidy(() => this.encoder.apply(encoderParams, standardizeInput(xb, this.scaling)));
  }

  /**
   * q(θ | x) as a distribution with batch shape `[B]` (a single observation gives B = 1). The
   * caller disposes it.
   */
  distribution(x: Observation): FamilyDistribution {
    const eta = tf.tidy(() => this.encode(this.batchOf(x).xb));
    const d = this.family.distribution(eta, this.familyParams);
    const dispose = d.dispose.bind(d);
    return Object.assign(d, {
      dispose() {
        dispose();
        eta.dispose();
      },
    });
  }

  private withDist<T extends tf.Tensor>(
    x: Observation,
    fn: (d: FamilyDistribution, single: boolean) => T,
  ): T {
    return tf.tidy(() => {
      const { xb, single } = this.batchOf(x);
      const d = this.family.distribution(this.encode(xb), this.familyParams);
      try {
        return fn(d, single);
      } finally {
        d.dispose();
      }
    });
  }

  /** `n` draws of θ per observation: `[n, B, dim]`, or `[n, dim]` for a single observation. */
  sample(x: Observation, n: number, rng: SampleStream): tf.Tensor {
    return this.withDist(x, (d, single) => {
      const s = d.sample(n, rng);
      return single ? tf.squeeze(s, [1]) : s;
    });
  }

  /**
   * log q(θ | x). θ `[B, dim]` with x `[B, ...]` gives `[B]`; θ `[n, B, dim]` gives `[n, B]`;
   * for a single observation, θ `[dim]` gives a scalar and θ `[n, dim]` gives `[n]`.
   */
  logProb(theta: tf.Tensor | number[] | number[][], x: Observation): tf.Tensor {
    return this.withDist(x, (d, single) => {
      const th = theta instanceof tf.Tensor ? theta : tf.tensor(theta as number[]);
      if (th.shape[th.rank - 1] !== this.family.dim) {
        throw new ShapeError('theta', `[..., ${this.family.dim}]`, th.shape);
      }
      const t = single ? tf.expandDims(th, -2) : th;
      const lp = d.logProb(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
      return single ? tf.squeeze(lp, [lp.rank - 1]) : lp;
    });
  }

  /** Mode of q(θ | x): `[B, dim]` or `[dim]`. */
  mode(x: Observation): tf.Tensor {
    return this.withDist(x, (d, single) => (single ? tf.squeeze(d.mode(), [0]) : d.mode()));
  }

  /** Mean of q(θ | x) (circular mean on angles): `[B, dim]` or `[dim]`. */
  mean(x: Observation): tf.Tensor {
    return this.withDist(x, (d, single) => (single ? tf.squeeze(d.mean(), [0]) : d.mean()));
  }

  /**
   * Save as one versioned file (the tensor file format of `@gcvi/runtime`, kind
   * `gcvi/posterior`, atomic write): format version, package version, family spec, encoder spec,
   * observation shape, input scaling and all weights.
   */
  save(path: string): void {
    const tensors: Record<string, TensorData> = {};
    for (const [n, t] of Object.entries(this.encoderParams)) tensors[`encoder/${n}`] = tensorData(t);
    for (const [n, t] of Object.entries(this.familyParams)) tensors[`family/${n}`] = tensorData(t);
    if (this.scaling) {
      tensors['scaling/mean'] = tensorData(this.scaling.mean);
      tensors['scaling/std'] = tensorData(this.scaling.std);
    }
    writeTensorFile(path, {
      kind: POSTERIOR_FILE_KIND,
      meta: {
        formatVersion: POSTERIOR_FORMAT_VERSION,
        gcviInferenceVersion: GCVI_INFERENCE_VERSION,
        family: this.family.spec as unknown as Record<string, unknown>,
        encoder: this.encoder.spec as unknown as Record<string, unknown>,
        xShape: [...this.xShape],
        standardized: this.scaling !== null,
        keys: { ...this.keys },
      },
      tensors,
    });
  }

  /** Free the weights and scaling tensors. */
  dispose(): void {
    tf.dispose(Object.values(this.encoderParams));
    tf.dispose(Object.values(this.familyParams));
    if (this.scaling) tf.dispose([this.scaling.mean, this.scaling.std]);
  }
}

/**
 * Load a posterior saved by `AmortizedPosterior.save` (any format version up to this one). A file
 * that is not a saved posterior, or whose family or encoder kind is unknown, is one
 * `FileFormatError` naming the file.
 */
export function loadPosterior(path: string): AmortizedPosterior {
  const file = readTensorFile(path, { kind: POSTERIOR_FILE_KIND });
  const m = file.meta as {
    formatVersion?: unknown;
    family?: FamilySpec;
    encoder?: { kind: string };
    xShape?: unknown;
    standardized?: unknown;
    keys?: { theta: string; x: string };
  };
  if (typeof m.formatVersion !== 'number' || !Number.isInteger(m.formatVersion)) {
    throw new FileFormatError(path, 'meta.formatVersion is missing: not a saved posterior');
  }
  if (m.formatVersion > POSTERIOR_FORMAT_VERSION) {
    throw new FileFormatError(
      path,
      `saved posterior format version ${m.formatVersion} is newer than this @gcvi/inference ${GCVI_INFERENCE_VERSION} reads (up to ${POSTERIOR_FORMAT_VERSION}); upgrade the package`,
    );
  }
  if (!Array.isArray(m.xShape) || !m.xShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FileFormatError(path, 'meta.xShape is missing or invalid');
  }
  let family: Family;
  let encoder: Encoder;
  try {
    family = familyFromSpec(m.family as FamilySpec);
    encoder = encoderFromSpec(m.encoder as { kind: string });
  } catch (e) {
    throw new FileFormatError(path, `cannot rebuild the posterior: ${(e as Error).message}`, { cause: e });
  }
  const take = (prefix: string, names: readonly string[]): NamedTensors => {
    const out: NamedTensors = {};
    for (const n of names) {
      const d = file.tensors[`${prefix}/${n}`];
      if (!d) throw new FileFormatError(path, `missing tensor '${prefix}/${n}'`);
      out[n] = fromTensorData(d);
    }
    return out;
  };
  const encoderParams = take(
    'encoder',
    encoder.paramSpecs.map((p) => p.name),
  );
  const familyParams = take(
    'family',
    family.paramSpecs.map((p) => p.name),
  );
  let scaling: InputScaling | null = null;
  if (m.standardized === true) {
    const s = take('scaling', ['mean', 'std']);
    scaling = { mean: s.mean as tf.Tensor, std: s.std as tf.Tensor };
  }
  return new AmortizedPosterior({
    family,
    encoder,
    xShape: m.xShape as number[],
    scaling,
    encoderParams,
    familyParams,
    keys: m.keys,
  });
}
