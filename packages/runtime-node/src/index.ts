export { createSession, type NodeSession, type NodeSessionOptions, type ModelSource } from './session.js';
export { availableBackends, NODE_BACKENDS, ortBinaryDir } from './backends.js';
export { decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions, ImageError, type ImageInput } from './image.js';
