/**
 * @gcvi/flows — normalizing flows on tfjs: a conditional rational-quadratic neural spline coupling
 * flow (sbi's default density estimator), written as pure functions of its parameters.
 */
export { loadNsf, NSF_FILE_KIND, saveNsf } from './io.js';
export { type Nsf, type NsfParams, nsf } from './nsf.js';
export type { NsfOptions, NsfSpec } from './options.js';
export {
  DEFAULT_MIN_BIN_HEIGHT,
  DEFAULT_MIN_BIN_WIDTH,
  DEFAULT_MIN_DERIVATIVE,
  rqSpline,
  rqSplinePlain,
  type SplineOptions,
  splineParamCount,
} from './spline.js';
