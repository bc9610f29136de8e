/**
 * @gcvi/distributions — distributions on tfjs tensors with batch/event shapes, seeded sampling,
 * exponential-family views of the Normal and von Mises families. log I0 and I1/I0 are re-exported
 * from @gcvi/kernels, where they are implemented.
 */
import '@gcvi/runtime';

export {
  i1OverI0,
  i1OverI0DerivNumber,
  i1OverI0Number,
  i1OverI0OverKappa,
  i1OverI0OverKappaNumber,
  logI0,
  logI0e,
  logI0eNumber,
  logI0Number,
  logI0OfSquare,
  oneMinusI1OverI0Number,
  type SpecialFunctionMode,
  setSpecialFunctionMode,
} from '@gcvi/kernels';
export { Categorical, type CategoricalParams } from './categorical.js';
export { Independent } from './independent.js';
export { type KLFn, kl, registerKL } from './kl.js';
export { MixtureSameFamily } from './mixture-same-family.js';
export {
  Normal,
  type NormalFromNaturalOptions,
  normalLogPartition,
  normalMeanToNatural,
  normalNaturalToMean,
} from './normal.js';
export type { Distribution, DistributionOptions, ExponentialFamily, SampleStream } from './types.js';
export { Uniform } from './uniform.js';
export { stopGradient } from './util.js';
export {
  VonMises,
  vonMisesConcentrationFromMeanResultant,
  vonMisesLogPartition,
  vonMisesMeanToNatural,
  vonMisesNaturalToMean,
} from './von-mises.js';
