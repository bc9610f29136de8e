/**
 * @gcvi/objectives — the objective registry and plugin loader, the built-in objectives
 * (`forward-kl`, `elbo`, `iwbo`), learning-rate schedules, Adam, the trainer state (`initFit` → `fitStep` → `fit`) and its file.
 */
import '@gcvi/runtime';

export type {
  AnyObjective,
  Batch,
  BatchContext,
  LossContext,
  Objective,
  ObjectivePluginModule,
  Problem,
  RandomStream,
  Requirement,
  SimulatedPairs,
  VariationalDistribution,
} from '@gcvi/objective-contract';
export { OBJECTIVE_CONTRACT_VERSION } from '@gcvi/objective-contract';
export { type ElboOptions, type ElboWeighting, elbo } from './builtins/elbo.js';
export { type ForwardKlOptions, forwardKl } from './builtins/forward-kl.js';
export { type IwboOptions, iwbo } from './builtins/iwbo.js';
export { logMeanExp, minibatch, stopGradient } from './builtins/shared.js';
export {
  type CheckpointData,
  type CheckpointState,
  FIT_STATE_KIND,
  type FitStateInfo,
  loadFitState,
  readCheckpoint,
  readFitStateInfo,
  type SavedArray,
  type SaveFitStateOptions,
  saveFitState,
} from './checkpoint.js';
export {
  builtinObjectives,
  getObjective,
  listObjectives,
  loadObjectivePlugins,
  registerObjective,
  registry,
} from './defaults.js';
export { type ObjectiveLossOptions, objectiveLoss } from './evaluate.js';
export { fit } from './fit.js';
export { disposeFitState, fitStep, initFit } from './fit-state.js';
export type {
  CheckpointOptions,
  EveryCallback,
  FitCallbacks,
  FitHistory,
  FitOptions,
  FitResult,
  FitRun,
  FitSetup,
  FitState,
  Params,
  ProgressInfo,
  StepInfo,
  StepOutcome,
} from './fit-types.js';
export {
  type AdamOptimizer,
  type AdamOptions,
  adam,
  type Optimizer,
  type OptimizerState,
  type SgdOptimizer,
  type SgdOptions,
  sgd,
} from './optimizers.js';
export {
  createRegistry,
  type LoadPluginsOptions,
  type ObjectiveRegistry,
  validateObjective,
} from './registry.js';
export { constantLr, inverseTimeLr, type Schedule, stepDivideLr } from './schedules.js';
