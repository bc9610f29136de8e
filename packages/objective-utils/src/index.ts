/**
 * @gcvi/objective-utils — what an objective plugin needs besides `@gcvi/objective-contract`:
 * minibatches, stop-gradient, log-mean-exp, shape checks and option parsing with errors that name
 * the field. It depends only on the contract and `@tensorflow/tfjs-core`. The conformance suite
 * every objective runs is at `@gcvi/objective-utils/test`.
 */

export {
  importanceLogWeights,
  observedMinibatch,
  reparameterizedLogWeights,
  rsampleOrThrow,
} from './batches.js';
export { configError, ObjectiveError, shapeError } from './errors.js';
export {
  enumOption,
  finiteOption,
  need,
  optionsObject,
  positiveIntOption,
  provides,
  rejectUnknown,
} from './options.js';
export { checkOnePerDraw, checkSameShape, logMeanExp, minibatch, stopGradient } from './tensors.js';
