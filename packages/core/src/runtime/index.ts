export * from './session.js';
export { checkModelOps, MAX_NODES, MODEL_OPS, type ModelCheckOptions } from './model-check.js';
export {
  type Backend,
  type BackendName,
  type BackendStatus,
  BackendRegistry,
  backendOptions,
  type EngineSession,
  wrapStart,
} from './backend.js';
export { embeddingOutput, ImageModelSession, type ImageDecoder, type OpenedModel } from './classifier.js';
export {
  type Engine,
  firstLine,
  loadModel,
  MAX_SESSION_BATCH,
  MAX_THREADS,
  type ModelBytes,
  type ModelInput,
  openSession,
} from './open.js';
export {
  checkRgbImage,
  preprocess,
  preprocessKernels,
  resizePlan,
  type PreprocessKernels,
  type RgbImage,
  type ResizePlan,
} from './preprocess.js';
export { nonFinite, softmax, topK, type Prediction } from './postprocess.js';
