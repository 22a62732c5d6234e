export * from './session.js';
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
export { type Engine, loadModel, type ModelBytes, type ModelInput, openSession } from './open.js';
export {
  checkRgbImage,
  preprocess,
  preprocessKernels,
  resizePlan,
  type PreprocessKernels,
  type RgbImage,
  type ResizePlan,
} from './preprocess.js';
export { softmax, topK, type Prediction } from './postprocess.js';
export { IMAGENET_LABELS } from './imagenet-labels.js';
export { LABELS_KEY, MAX_LABEL_LENGTH, checkLabels, metadataLabels, withLabels } from './labels.js';
