export { createSession, type WebSession, type WebSessionOptions, type WebModelSource } from './session.js';
export { availableBackends, webgpuUnavailable, WEB_BACKENDS } from './backends.js';
export { decodeWebImage, MAX_DECODE_SIDE, type WebImage } from './image.js';
export { type OrtSettings, type WasmPaths } from './ort.js';
export { decodeTarget, decodeWebFor, type WebDecodeMode } from './decode-fast.js';
