export {
  checkGeneratorParams,
  encodePngGray,
  GENERATOR_PARAM_NAMES,
  type GeneratorParams,
  generateImages,
  generatorApply,
  generatorCacheKey,
  generatorFromStateDict,
  generatorParamShapes,
  imageGrid,
  loadGenerator,
  saveGenerator,
  type TrainedGenerator,
  type TrainGeneratorOptions,
  trainGenerator,
} from './generator.js';
export {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxHeader,
  type LoadMnistOptions,
  loadMnist,
  type MnistData,
  type MnistSplit,
  mnistDataDir,
  mnistFileNames,
  mnistImagesTensor,
  parseIdxHeader,
} from './idx.js';
export {
  E3_TRUE_ANGLE,
  type RotatedMnistModel,
  type RotatedMnistModelOptions,
  type RotatedMnistSet,
  rotatedMnistModel,
} from './model.js';
export {
  rotateFlat,
  rotateFlatMany,
  rotateFlatManyPlain,
  rotateImageReference,
  rotateImages,
} from './rotate.js';
export { loadTorchCheckpoint, parseTorchCheckpoint, type TorchStateDict, type TorchTensor } from './torch.js';
