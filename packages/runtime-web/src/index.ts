export { createSession, type WebSession, type WebSessionOptions, type WebModelSource } from './session.js';
export {
  availableBackends,
  backendNames,
  registerBackend,
  type WebBackend,
  type WebStarted,
  webgpuUnavailable,
} from './backends.js';
export { decodeWebImage, MAX_DECODE_SIDE, type WebImage } from './image.js';
export { type Build, loadOrt, type Ort, type OrtSettings, type WasmPaths, type WasmThreads } from './ort.js';
export { decodeTarget, decodeWebFor, type WebDecodeMode } from './decode-fast.js';
export { classifyAll, detectAll, segmentAll, type WebImageSources, type WebPipelineOptions } from './pipeline.js';
export { loadPretrained, isPretrainedName, type WebHubOptions, type WebPretrainedModel } from './pretrained.js';
