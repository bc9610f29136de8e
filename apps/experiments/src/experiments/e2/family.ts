/**
 * The E2 variational family: q(Z, S | X) = Π_k q(Z_k | X) · q(S | X), independent Gaussians whose
 * parameters come from two Set Transformers (Z: 5 PMA seeds → 5 × 2 outputs; S: 1 seed → 2 outputs).
 *
 *   mean:     loc = output[..., 0], scale = 1 (output[..., 1] unused)
 *   natural:  η1 = output[..., 0], η2 = clamp(output[..., 1], −1000, −0.1);  loc = −η1 / (2η2), scale² = −1/(2η2)
 *
 * The mode of q is its loc. θ is laid out as (Z_1..Z_K, S), the layout of `@gcvi/datasets`'
 * clustering simulator.
 */
import { Normal } from '@gcvi/distributions';
import { type Encoder, type NamedTensors, setTransformer } from '@gcvi/encoders';
import type { RandomStream, VariationalDistribution } from '@gcvi/objective-contract';
import { ConfigError, type Rng, ShapeError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';

export const PARAMETERIZATIONS = ['mean', 'natural'] as const;
export type Parameterization = (typeof PARAMETERIZATIONS)[number];

/** Clamp of η2 in the natural parameterization (DESIGN §2 E2). */
export const ETA2_CLAMP: readonly [number, number] = [-1000, -0.1];

export interface E2FamilyOptions {
  readonly parameterization: Parameterization;
  /** Mixture components K (PMA seeds of the Z encoder); default 5. */
  readonly components?: number;
  /** Set Transformer width (default 64) and heads (default 4). */
  readonly width?: number;
  readonly heads?: number;
  /** Attention through the fused kernel of `@gcvi/kernels` (default false). */
  readonly fusedAttention?: boolean;
}

/** Independent Gaussians over the last axis of θ (event shape `[K + 1]`). */
class DiagonalGaussian implements VariationalDistribution {
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  constructor(readonly normal: Normal) {
    const bs = normal.batchShape;
    this.batchShape = bs.slice(0, -1);
    this.eventShape = bs.slice(-1);
  }
  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sum(this.normal.logProb(value), -1));
  }
  sample(n: number, rng: RandomStream): tf.Tensor {
    return this.normal.sample(n, rng);
  }
  rsample(n: number, rng: RandomStream): tf.Tensor {
    return this.normal.rsample(n, rng);
  }
  /** The mode (= mean), `[...batchShape, K + 1]`. */
  mode(): tf.Tensor {
    return this.normal.mode();
  }
  scale(): tf.Tensor {
    return tf.broadcastTo(this.normal.scale, [...this.normal.batchShape]);
  }
}

export interface E2Family {
  readonly parameterization: Parameterization;
  readonly components: number;
  readonly encoderZ: Encoder;
  readonly encoderS: Encoder;
  /** Fresh parameters, names prefixed `z/` and `s/` (init streams `init/z`, `init/s` of `rng`). */
  init(rng: Rng): NamedTensors;
  /** Raw encoder outputs `[B, K + 1, 2]` (Z rows, then the S row) for sets `x` `[B, n, 1]`. */
  outputs(params: NamedTensors, x: tf.Tensor): tf.Tensor;
  /** q(θ | x): batch `[B]`, event `[K + 1]`; differentiable in `params`. */
  q(params: NamedTensors, x: tf.Tensor): VariationalDistribution & { mode(): tf.Tensor; scale(): tf.Tensor };
  /** Mode and sd of q for each set, as plain arrays: `mode[b] = (Z_1..Z_K, S)`. */
  summarize(params: NamedTensors, x: tf.Tensor): { mode: number[][]; sd: number[][] };
}

function pick(params: NamedTensors, prefix: string): NamedTensors {
  const out: NamedTensors = {};
  for (const [name, t] of Object.entries(params)) {
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = t;
  }
  return out;
}

/** The two Set Transformers and the Gaussian head of E2. */
export function e2Family(options: E2FamilyOptions): E2Family {
  const parameterization = options.parameterization;
  if (!PARAMETERIZATIONS.includes(parameterization)) {
    throw new ConfigError(
      'parameterization',
      `must be 'mean' or 'natural', got ${JSON.stringify(parameterization)}`,
    );
  }
  const components = options.components ?? 5;
  const width = options.width ?? 64;
  const heads = options.heads ?? 4;
  const fusedAttention = options.fusedAttention === true;
  const encoderZ = setTransformer({
    inputSize: 1,
    width,
    heads,
    seeds: components,
    outputSize: 2,
    fusedAttention,
  });
  const encoderS = setTransformer({ inputSize: 1, width, heads, seeds: 1, outputSize: 2, fusedAttention });

  function outputs(params: NamedTensors, x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== 1) throw new ShapeError('x', '[B, n, 1]', x.shape);
    return tf.tidy(() =>
      tf.concat([encoderZ.apply(pick(params, 'z/'), x), encoderS.apply(pick(params, 's/'), x)], 1),
    );
  }

  function q(params: NamedTensors, x: tf.Tensor) {
    const out = outputs(params, x); // [B, K+1, 2]
    const [a, b] = tf.unstack(out, -1) as [tf.Tensor, tf.Tensor];
    out.dispose();
    if (parameterization === 'mean') {
      b.dispose();
      return new DiagonalGaussian(new Normal(a, 1, { validateArgs: false }));
    }
    return new DiagonalGaussian(Normal.fromNatural(a, b, { clampEta2: ETA2_CLAMP, validateArgs: false }));
  }

  return {
    parameterization,
    components,
    encoderZ,
    encoderS,
    init(rng: Rng): NamedTensors {
      // tidy: keep only the returned parameters, whatever the initializers allocate on the way.
      return tf.tidy(() => {
        const out: NamedTensors = {};
        const r = rng.split('init');
        for (const [name, t] of Object.entries(encoderZ.init(r.split('z')))) out[`z/${name}`] = t;
        for (const [name, t] of Object.entries(encoderS.init(r.split('s')))) out[`s/${name}`] = t;
        return out;
      });
    },
    outputs,
    q,
    summarize(params, x) {
      return tf.tidy(() => {
        const d = q(params, x);
        return {
          mode: d.mode().arraySync() as number[][],
          sd: d.scale().arraySync() as number[][],
        };
      });
    },
  };
}
