// @gcvi/runtime loads @tensorflow/tfjs (gradients, chained ops) before any kernel is registered.
import '@gcvi/runtime';
import { registerFusedAdam } from './adam.js';
import { registerFusedAttention } from './attention.js';
import { registerFusedDense } from './fused_dense.js';
import { registerVonMisesNll } from './von_mises_nll.js';

export { type AdamConfig, FusedAdam, FusedAdamStep } from './adam.js';
export {
  attentionPlain,
  FusedAttention,
  FusedAttentionGrad,
  fusedAttention,
  registerFusedAttention,
} from './attention.js';
export {
  FusedNtkDense,
  type FusedNtkDenseAttrs,
  FusedNtkDenseGrad,
  fusedDense,
  fusedDensePlain,
  registerFusedDense,
} from './fused_dense.js';
export { FUSED_BACKENDS, type FusedBackendName, hasFusedKernel } from './js_kernel.js';
export { besselRatio, besselRatioOverKappa, logI0 } from './special.js';
export {
  logI0Plain,
  type NllReduction,
  registerVonMisesNll,
  VonMisesNll,
  VonMisesNllGrad,
  vonMisesNll,
  vonMisesNllPlain,
} from './von_mises_nll.js';
export { setSimdEnabled } from './wasm/simd.js';

registerFusedDense();
registerVonMisesNll();
registerFusedAdam();
registerFusedAttention();
