export {
  type Backend,
  type BackendName,
  type BackendStatus,
  BackendRegistry,
  backendOptions,
  type EngineSession,
  wrapStart,
} from './backend.js';
export { ImageModelSession, type ImageDecoder, type OpenedModel } from './image-session.js';
export { checkModelOps, MAX_NODES, MODEL_OPS, type ModelCheckOptions } from './model-check.js';
export {
  graphIO,
  type GraphOptimization,
  MAX_CLASSES,
  MAX_INPUT_SIZE,
  type MobileNetSession,
  type ModelInfo,
  modelInfo,
  type ModelIO,
  type SessionOptions,
} from './model-info.js';
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
