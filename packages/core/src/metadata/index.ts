export { METADATA_KEYS, LABELS_KEY, OUTPUT_NAMES, embeddingOutputOf, logitsOutput } from './keys.js';
export { describeValue, isTriple } from './describe.js';
export {
  centerCrop,
  checkPreprocessing,
  HALF_RANGE,
  IMAGENET_MEAN,
  IMAGENET_STD,
  MAX_RESIZE,
  parsePreprocessing,
  type Preprocessing,
  preprocessingOf,
  readPreprocessing,
  torchvisionPreprocessing,
} from './preprocessing.js';
export {
  checkLabels,
  classLabels,
  imagenetLabels,
  labelsMarker,
  MAX_LABEL_LENGTH,
  metadataLabels,
  modelLabels,
  withLabels,
} from './labels.js';
export { type ConfigRecord, readConfig, type WeightsKind, weightsKind } from './config.js';
export { int8TargetOf } from './int8.js';
export { int8CheckMetadata, modelMetadata, precisionMetadata, weightsMetadata } from './write.js';
export { IMAGENET_LABELS } from '../data/imagenet-labels.js';
