export {
  checkGeneratorParams,
  checkLoadedGenerator,
  GENERATOR_LATENT_DIM,
  GENERATOR_PARAM_NAMES,
  type GeneratorParams,
  generateImages,
  generatorApply,
  generatorFromStateDict,
  generatorParamShapes,
} from './generator.js';
export {
  checkGeneratorCheckpoint,
  GENERATOR_FILE_KIND,
  type GeneratorFileMeta,
  loadGenerator,
  saveGenerator,
} from './generator-file.js';
export {
  generatorCacheFile,
  generatorCacheKey,
  type TrainedGenerator,
  type TrainGeneratorOptions,
  trainGenerator,
} from './generator-train.js';
export { imageGrid } from './grid.js';
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
  type RotatedMnistSets,
  type RotatedSets,
  rotatedMnistModel,
  rotatedSetsSimulator,
} from './model.js';
export {
  rotateFlat,
  rotateFlatMany,
  rotateFlatManyPlain,
  rotateImageReference,
  rotateImages,
} from './rotate.js';
export { loadTorchCheckpoint, parseTorchCheckpoint, type TorchStateDict, type TorchTensor } from './torch.js';
