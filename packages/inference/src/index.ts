/**
 * @gcvi/inference — amortized inference for your own simulator in three steps
 * (`amortize` → `train` → `posterior`), the variational families it can use, saving and loading a
 * trained posterior as one versioned file, and the diagnostics practitioners run on it.
 */
import '@gcvi/runtime';

export {
  type AmortizedEstimator,
  type AmortizeOptions,
  amortize,
  type Simulator,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './amortize.js';
export { defaultEncoder } from './default-encoder.js';
export { type C2stOptions, type C2stResult, c2st } from './diagnostics/c2st.js';
export type { Pairs, PosteriorLike } from './diagnostics/common.js';
export {
  type CoverageOptions,
  type CoverageResult,
  expectedCoverage,
  type ZScoreResult,
  zScoreContraction,
} from './diagnostics/coverage.js';
export { type SbcDimension, type SbcOptions, type SbcResult, sbc } from './diagnostics/sbc.js';
export { type NsfFamilyOptions, nsfFamily } from './families/flow.js';
export {
  type GaussianDiagOptions,
  type GaussianFullOptions,
  gaussianDiag,
  gaussianFull,
} from './families/gaussian.js';
export { type GaussianMixtureOptions, gaussianMixture } from './families/mixture.js';
export { productFamily } from './families/product.js';
export { type FamilyBuilder, familyFromSpec, familyKinds, registerFamily } from './families/registry.js';
export type { Family, FamilyDistribution, FamilySpec } from './families/types.js';
export { type VonMisesFamilyOptions, vonMisesFamily } from './families/von-mises.js';
export {
  AmortizedPosterior,
  GCVI_INFERENCE_VERSION,
  loadPosterior,
  type Observation,
  POSTERIOR_FILE_KIND,
  POSTERIOR_FORMAT_VERSION,
} from './posterior.js';
export { type InputScaling, learnScaling, standardizeInput } from './standardize.js';
