import { ConfigError } from '@gcvi/runtime';
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.js';
import { fromSpecTensor, linearize, type SpecTensor } from './linearize.js';
import { generatorMlp, mnistAngleEncoder, mnistLatentEncoder } from './mnist.js';
import { isab, mab, pma, sab, setTransformer } from './set-transformer.js';
import type { Encoder, EncoderSpec, NamedTensors } from './types.js';

/* biome-ignore lint/suspicious/noExplicitAny: specs are untyped JSON; each builder validates its fields */
type AnySpec = any;

const BUILDERS: Record<string, (spec: AnySpec, options: { params0?: NamedTensors }) => Encoder> = {
  dense: (s) =>
    dense({
      inputSize: s.inputSize,
      hiddenSizes: s.hiddenSizes,
      outputSize: s.outputSize,
      activation: s.activation,
      bias: s.bias,
    }),
  'set-transformer': (s) =>
    setTransformer({
      inputSize: s.inputSize,
      width: s.width,
      heads: s.heads,
      seeds: s.seeds,
      outputSize: s.outputSize,
      fusedAttention: s.fusedAttention,
    }),
  mab: (s) =>
    mab({ dimQ: s.dimQ, dimK: s.dimK, dimV: s.dimV, heads: s.heads, prefix: s.prefix, fused: s.fused }),
  sab: (s) => sab({ dimIn: s.dimIn, dimOut: s.dimOut, heads: s.heads, prefix: s.prefix, fused: s.fused }),
  isab: (s) =>
    isab({ dimIn: s.dimIn, dimOut: s.dimOut, heads: s.heads, inducing: s.inducing, prefix: s.prefix }),
  pma: (s) => pma({ dim: s.dim, heads: s.heads, seeds: s.seeds, prefix: s.prefix, fused: s.fused }),
  'mnist-angle': (s) => mnistAngleEncoder({ leakySlope: s.leakySlope }),
  'mnist-latent': () => mnistLatentEncoder(),
  'generator-mlp': () => generatorMlp(),
  linearized: (s, o) => {
    const base = encoderFromSpec(s.base);
    if (o.params0 !== undefined) return linearize(base, o.params0, { method: s.method });
    if (s.params0 === undefined || s.params0 === null || typeof s.params0 !== 'object') {
      throw new ConfigError(
        'spec.params0',
        'a linearized encoder needs its expansion point: in the spec, or encoderFromSpec(spec, { params0 })',
      );
    }
    const p0: NamedTensors = {};
    try {
      for (const [name, st] of Object.entries(s.params0 as Record<string, SpecTensor>)) {
        p0[name] = fromSpecTensor(`spec.params0.${name}`, st);
      }
      return linearize(base, p0, { method: s.method }); // copies φ0
    } finally {
      tf.dispose(Object.values(p0));
    }
  },
};

/** Encoder kinds `encoderFromSpec` can rebuild. */
export const ENCODER_KINDS: readonly string[] = Object.keys(BUILDERS);

/**
 * Rebuild an encoder from its JSON `spec` (as found in `encoder.spec` or a parameter file); the
 * rebuilt encoder computes the same outputs bit for bit. A `linearized` spec carries its JVP method
 * and expansion point φ0; `options.params0` overrides φ0 (and serves specs written without it).
 */
export function encoderFromSpec(spec: EncoderSpec, options: { params0?: NamedTensors } = {}): Encoder {
  if (spec === null || typeof spec !== 'object' || typeof spec.kind !== 'string') {
    throw new ConfigError('spec.kind', 'an encoder spec is an object with a string `kind`');
  }
  const build = BUILDERS[spec.kind];
  if (build === undefined) {
    throw new ConfigError(
      'spec.kind',
      `unknown encoder kind '${spec.kind}'; known kinds: ${ENCODER_KINDS.join(', ')}`,
    );
  }
  return build(spec, options);
}
