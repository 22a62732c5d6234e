export { createSession, type NodeSession, type NodeSessionOptions, type ModelSource } from './session.js';
export { availableBackends, backendNames, type NodeBackend, ortOptions, registerBackend } from './backends.js';
export { ortBinaryDir } from './probes.js';
export { decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions, ImageError, type ImageInput } from './image.js';
export { calibrate, type CalibrateOptions, type Calibration } from './calibrate.js';
export { readImageFolder, type ImageFolder } from './image-folder.js';
export { fidelity, type Fidelity } from './fidelity.js';
export { compareModels, logitsOf } from './compare.js';
