export {
  TORCHVISION_BASE_URL,
  TORCHVISION_WEIGHTS,
  TORCHVISION_DEFAULTS,
  type TorchvisionWeights,
  type OtherTransforms,
  type ClassificationTransforms,
  hashPrefixOf,
  torchvisionWeightsPreprocessing,
} from './torchvision.js';
export {
  TIMM_ARCHITECTURES,
  TIMM_TAGS,
  type TimmArchitecture,
  type TimmConfig,
  type TimmTag,
  readTimmConfig,
  timmArchitecture,
  timmPreprocessing,
} from './timm.js';
export {
  type WeightsName,
  registerTorchvisionWeights,
  torchvisionTable,
  parseWeightsName,
  isWeightsName,
  isLoopback,
  urlFileName,
  torchvisionNames,
} from './names.js';
export {
  type PretrainedSpec,
  type WeightsRecord,
  WEIGHTS_METADATA_KEY,
  LABELS_METADATA_KEY,
  buildPretrained,
  timmSpec,
  torchvisionSpec,
} from './build.js';
