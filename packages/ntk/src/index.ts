/**
 * @gcvi/ntk — neural tangent kernel analysis: per-example Jacobians of any encoder (and the closed
 * form for dense networks), the empirical NTK, a tracker of how far the Jacobian and the NTK move
 * during training, and the analytic infinite-width NTK of the one-hidden-layer ReLU network.
 */
import '@gcvi/runtime';

export { eigenvaluesByMagnitude, minEigenvalue, symmetricEigenvalues } from './eigen.js';
export {
  arcCosineKernels,
  type InfiniteWidthNtkOptions,
  infiniteWidthNtk,
  type Matrix,
  type NtkTerm,
  type PointsInput,
} from './infinite.js';
export { type JacobianMethod, type JacobianOptions, jacobian, jacobianDense } from './jacobian.js';
export { empiricalNtk, gramRows, ntkGram } from './ntk.js';
export {
  type NtkTracker,
  type NtkTrackerCallback,
  type NtkTrackerOptions,
  type NtkTrackerRow,
  ntkTracker,
} from './tracker.js';
