// @gcvi/runtime loads @tensorflow/tfjs (gradients, chained ops) before any kernel is registered.
import '@gcvi/runtime';
import { registerAllKernels } from './register_all.js';

export { FusedAdamStep } from './adam.js';
export { attentionPlain, FusedAttention, FusedAttentionGrad, fusedAttention } from './attention.js';
export { Conv2DBackpropFilter } from './conv2d_backprop_filter_grad.js';
export {
  DENSE_ACTIVATIONS,
  type DenseActivation,
  type DenseLayerOptions,
  denseLayer,
  denseLayerPlain,
  GcviDenseActivationGrad,
  GcviDenseLayer,
} from './dense_layer.js';
export {
  FusedNtkDense,
  type FusedNtkDenseAttrs,
  FusedNtkDenseGrad,
  fusedDense,
  fusedDensePlain,
} from './fused_dense.js';
export { col2im, GcviCol2Im, GcviIm2Col, type Im2ColAttrs, im2col, im2colPlain } from './im2col.js';
export { FUSED_BACKENDS, type FusedBackendName, hasFusedKernel } from './js_kernel.js';
export { detached, detachedCompare } from './mask.js';
export { GcviMatMul, type GcviMatMulAttrs, matMul } from './matmul.js';
export { GRADIENT_CONFIGS, KERNEL_CONFIGS, registerAllKernels } from './register_all.js';
export {
  KernelRegistrationError,
  registerConfigs,
  registerGradientConfig,
  registerKernelConfig,
} from './registry.js';
export {
  GcviRotateBilinear,
  GcviRotateBilinearGradAngles,
  GcviRotateBilinearGradImages,
  hasRotateBilinear,
  type RotateBilinearAttrs,
  rotateBilinear,
} from './rotate_bilinear.js';
export {
  GcviRotatedNormalLogLik,
  GcviRotatedNormalLogLikGrad,
  hasRotatedNormalLogLik,
  rotatedNormalLogLik,
} from './rotated_normal_loglik.js';
export {
  GcviRqSpline,
  GcviRqSplineGrad,
  hasRqSpline,
  type RqSplineAttrs,
  rqSplineFused,
} from './rq_spline.js';
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
  logI0Plain,
  oneMinusI1OverI0,
  oneMinusI1OverI0Number,
  type SpecialFunctionMode,
  setSpecialFunctionMode,
  sinStable,
  specialFunctionsOnHost,
} from './special.js';
export {
  type NllForm,
  type NllReduction,
  VonMisesNll,
  VonMisesNllGrad,
  vonMisesNll,
  vonMisesNllFromAngle,
  vonMisesNllFromAnglePlain,
  vonMisesNllNumber,
  vonMisesNllPlain,
} from './von_mises_nll.js';
export { sgemm } from './wasm/gemm.js';
export { setSimdEnabled } from './wasm/simd.js';

registerAllKernels();
