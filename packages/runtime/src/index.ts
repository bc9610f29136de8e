export {
  BACKENDS,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  backendInfo,
  describeBackend,
  type InitBackendOptions,
  initBackend,
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
