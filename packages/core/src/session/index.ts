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
export * from './model-info.js';
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
