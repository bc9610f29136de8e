export {
  BACKENDS,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  backendInfo,
  describeBackend,
  type InitBackendOptions,
  initBackend,
  type TfjsChainedOps,
} from './backend.js';
export {
  BackendError,
  ConfigError,
  FileFormatError,
  GcviError,
  NumericalError,
  ShapeError,
} from './errors.js';
export { createRng, Rng, type RngState, rngFromState, type Seed } from './rng.js';
export type { Draws, NamedDraws, Simulator } from './simulator.js';
export {
  decodeTensorFile,
  encodeTensorFile,
  fromTensorData,
  type ReadTensorFileOptions,
  readTensorFile,
  TENSOR_FILE_MAGIC,
  TENSOR_FILE_VERSION,
  type TensorData,
  type TensorDType,
  type TensorFile,
  tensorData,
  writeTensorFile,
} from './tensor-file.js';
export {
  broadcastShapes,
  checkFinite,
  checkPositive,
  checkPositiveInt,
  checkShape,
  checkTensorFinite,
  checkTensorPositive,
} from './validate.js';
