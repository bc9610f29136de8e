/**
 * @gcvi/encoders — neural encoders for amortized inference. Every encoder is a pure function of
 * (parameters, input); see `Encoder` in ./types.ts.
 */
import '@gcvi/runtime';

export { type DenseEncoder, type DenseOptions, type DenseSpec, dense, jvpDense } from './dense.js';
export { flatten, unflatten } from './flat.js';
export { torchDefaultUniform, xavierUniform } from './init.js';
export {
  type JvpMethod,
  jvp,
  jvpByDoubleVjp,
  type LinearizedEncoder,
  type LinearizedSpec,
  linearize,
} from './linearize.js';
export { checkParams, numParams } from './params.js';
export type { Encoder, EncoderSpec, NamedTensors, ParamSpec } from './types.js';
