/**
 * @gcvi/datasets — simulators with exact posteriors for the gcvi experiments, the MNIST loader
 * and generator tools. Importing anything from here loads tfjs through `@gcvi/runtime`.
 */
import '@gcvi/runtime';

// E2 "amortized clustering": shifted Gaussian mixture, fixed observed replicates.
export {
  type ClusteringConfig,
  type ClusteringDraw,
  type ClusteringDrawArrays,
  type ClusteringOptions,
  type ClusteringPairs,
  type ClusteringReplicate,
  type ClusteringSimulator,
  clusteringSimulator,
} from './clustering.js';
// E1 "canonical": angle on a circle, exact grid posterior.
export {
  type AngleInput,
  type CanonicalPairs,
  type CanonicalSimulator,
  type CanonicalSimulatorOptions,
  type CanonicalTestSet,
  canonicalSimulator,
  canonicalTestSet,
  type ObservationInput,
  type PosteriorGrid,
  type PosteriorGridOptions,
  wrapAngle,
} from './e1.js';
// Rotated MNIST (E3/E4): MNIST IDX loader, rotation, generator (training, PyTorch import), model.
export * from './mnist/index.js';
// The one simulator contract: sample(n, rng) → named tensors.
export {
  checkDraws,
  type Draws,
  type MakeSimulatorOptions,
  makeSimulator,
  type NamedDraws,
  type Simulator,
  type SingleDraw,
} from './simulator.js';
