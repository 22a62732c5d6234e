// The model metadata format: its keys, its writers and its checked readers. Helpers used only inside core
// (describeValue, isTriple, centerCrop, classLabels, labelsMarker, int8TargetOf, ...) are imported from their files.
export { METADATA_KEYS, LABELS_KEY, OUTPUT_NAMES, embeddingOutputOf, logitsOutput } from './keys.js';
export {
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
  imagenetLabels,
  MAX_LABEL_LENGTH,
  metadataLabels,
  modelLabels,
  withLabels,
} from './labels.js';
export { type ConfigRecord, readConfig, type WeightsKind, weightsKind } from './config.js';
export { int8CheckMetadata, modelMetadata, precisionMetadata, trainingMetadata, weightsMetadata } from './write.js';
export {
  type AnchorRecord,
  type DetectionMetadata,
  detectionMetadata,
  readDetectionMetadata,
  readSegmentationMetadata,
  type SegmentationMetadata,
  segmentationMetadata,
} from './dense.js';
export { IMAGENET_LABELS } from '../data/imagenet-labels.js';
