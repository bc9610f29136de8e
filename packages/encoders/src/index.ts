/**
 * @gcvi/encoders — neural encoders for amortized inference. Every encoder is a pure function of
 * (parameters, input); see `Encoder` in ./types.ts.
 */
import '@gcvi/runtime';

export { attention } from './attention.js';
export { conv2d, patches } from './conv.js';
export { type DenseEncoder, type DenseOptions, type DenseSpec, dense, jvpDense } from './dense.js';
export { flatten, unflatten } from './flat.js';
export { torchDefaultUniform, xavierUniform } from './init.js';
export {
  decodeParams,
  encodeParams,
  loadParams,
  PARAMS_FORMAT,
  PARAMS_VERSION,
  type ParamsFileHeader,
  saveParams,
} from './io.js';
export {
  type JvpMethod,
  jvp,
  jvpByDoubleVjp,
  type LinearizedEncoder,
  type LinearizedSpec,
  linearize,
  type SpecTensor,
} from './linearize.js';
export {
  type GeneratorSpec,
  generatorMlp,
  type MnistAngleEncoderOptions,
  type MnistAngleSpec,
  type MnistLatentSpec,
  mnistAngleEncoder,
  mnistLatentEncoder,
} from './mnist.js';
export { checkParams, initVariables, numParams, toVariables } from './params.js';
export {
  type IsabOptions,
  type IsabSpec,
  isab,
  type MabBlock,
  type MabOptions,
  type MabSpec,
  mab,
  type PmaOptions,
  type PmaSpec,
  pma,
  type SabOptions,
  type SabSpec,
  type SetTransformerOptions,
  type SetTransformerSpec,
  sab,
  setTransformer,
} from './set-transformer.js';
export { ENCODER_KINDS, encoderFromSpec } from './spec.js';
export type { Encoder, EncoderSpec, NamedTensors, ParamSpec } from './types.js';
