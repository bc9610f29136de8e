export {
  findSbibmData,
  loadSbibmReference,
  parseNumberCsv,
  readBzip2Text,
  type SbibmReference,
} from './reference.js';
export type { SbibmDraws, SbibmPrior, SbibmTask, SbibmTaskName } from './task.js';
export {
  GAUSSIAN_LINEAR,
  type GaussianLinearTask,
  gaussianLinear,
  SLCP,
  sbibmTask,
  slcp,
  slcpMoments,
  TWO_MOONS,
  twoMoons,
  twoMoonsNoise,
} from './tasks.js';
