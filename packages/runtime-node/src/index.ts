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
export { calibrate, type CalibrateOptions, type Calibration } from './calibrate.js';
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
} from './image-folder.js';
export { fidelity, type Fidelity } from './fidelity.js';
export { compareModels, logitsOf } from './compare.js';
export { checkFloat16, probeInputs, type Float16Check, type Float16CheckOptions } from './float16-check.js';
export { checkInt8, int8KernelsHere, worstLayer, type Int8Check, type LayerFidelity } from './int8-check.js';
export { classifyAll, embedAll, type BatchStats, type ImageSources, type PipelineOptions } from './pipeline.js';
export { decodeFor, DECODE_MODES, type DecodeMode } from './decode-fast.js';
export { profileModel, blockOf, type ModelProfile, type ProfileRow } from './profile.js';
export { formatProfile, shareChart, stagesChart } from './profile-chart.js';
export { preprocessingOf } from '@mobilenet/core';
export * from './hub/index.js';
