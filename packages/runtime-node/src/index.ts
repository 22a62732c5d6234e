export { createSession, type NodeSession, type NodeSessionOptions, type ModelSource } from './session.js';
export { availableBackends, backendNames, type NodeBackend, ortOptions, registerBackend } from './backends.js';
export { ortBinaryDir } from './probes.js';
export {
  decodeImage,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  ImageError,
  type ImageInput,
  imageByteCap,
  imageName,
  readImageFile,
} from './image.js';
export { DECODED_FORMATS, IMAGE_LIMITS, TIFF_COMPRESSIONS } from './image-policy.js';
export type { HeaderFormat, Sniffed } from './image-header.js';
export { removeOnSignal } from './files.js';
export {
  FILE_CAPS,
  FileError,
  type FileProblem,
  type FileRules,
  kindOf,
  linesOf,
  openRegular,
  openRegularSync,
  readRegular,
  readRegularSync,
} from './files.js';
export {
  displayName,
  entryOf,
  type FolderEntry,
  type FolderImage,
  folderEntries,
  folderImages,
  type ImageFolder,
  isFolder,
  readImageFolder,
  tooFewImages,
} from './image-folder.js';
export { int8KernelsHere } from './int8-kernels.js';
export {
  classifyAll,
  detectAll,
  embedAll,
  segmentAll,
  type BatchStats,
  type ImageTiming,
  type ImageSources,
  type PipelineOptions,
} from './pipeline.js';
export { decodeFor, DECODE_MODES, type DecodeMode } from './decode-fast.js';
export {
  decodersAfter,
  type PipelineTuning,
  startDecoders,
  type TuningInput,
  tunePipeline,
} from './pipeline-tuning.js';
export { preprocessingOf } from '@mobilenet/core';
export {
  type DownloadProgress,
  HubError,
  type HubErrorCode,
  type HubOptions,
  hubSettings,
  type HubSettings,
  type HttpSettings,
  listPretrained,
  loadPretrained,
  type PretrainedEntry,
  type PretrainedModel,
  type ResolvedWeights,
  resolveWeights,
} from './hub/index.js';
