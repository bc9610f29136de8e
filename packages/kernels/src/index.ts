// @gcvi/runtime loads @tensorflow/tfjs (gradients, chained ops) before any kernel is registered.
import '@gcvi/runtime';
import { registerFusedAdam } from './adam.js';
import { registerFusedAttention } from './attention.js';
import { registerDenseLayer } from './dense_layer.js';
import { registerFusedDense } from './fused_dense.js';
import { registerIm2Col } from './im2col.js';
import { registerMatMul } from './matmul.js';
import { registerRotateBilinear } from './rotate_bilinear.js';
import { registerRotatedNormalLogLik } from './rotated_normal_loglik.js';
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
  DENSE_ACTIVATIONS,
  type DenseActivation,
  type DenseLayerOptions,
  denseLayer,
  denseLayerPlain,
  GcviDenseActivationGrad,
  GcviDenseLayer,
  registerDenseLayer,
} from './dense_layer.js';
export {
  FusedNtkDense,
  type FusedNtkDenseAttrs,
  FusedNtkDenseGrad,
  fusedDense,
  fusedDensePlain,
  registerFusedDense,
} from './fused_dense.js';
export { col2im, GcviCol2Im, GcviIm2Col, type Im2ColAttrs, im2col, im2colPlain, registerIm2Col } from './im2col.js';
export { FUSED_BACKENDS, type FusedBackendName, hasFusedKernel } from './js_kernel.js';
export { GcviMatMul, type GcviMatMulAttrs, matMul, registerMatMul } from './matmul.js';
export {
  GcviRotateBilinear,
  GcviRotateBilinearGradAngles,
  GcviRotateBilinearGradImages,
  hasRotateBilinear,
  type RotateBilinearAttrs,
  registerRotateBilinear,
  rotateBilinear,
} from './rotate_bilinear.js';
export {
  GcviRotatedNormalLogLik,
  GcviRotatedNormalLogLikGrad,
  hasRotatedNormalLogLik,
  registerRotatedNormalLogLik,
  rotatedNormalLogLik,
} from './rotated_normal_loglik.js';
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
registerMatMul();
registerDenseLayer();
registerIm2Col();
registerRotateBilinear();
registerRotatedNormalLogLik();
