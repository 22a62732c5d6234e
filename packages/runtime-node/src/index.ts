export { createSession, type NodeSession, type NodeSessionOptions, type ModelSource } from './session.js';
export { availableBackends, NODE_BACKENDS, ortBinaryDir } from './backends.js';
export { decodeImage, ImageError, type ImageInput } from './image.js';
export { calibrate, type CalibrateOptions, type Calibration } from './calibrate.js';
export { readImageFolder, type ImageFolder } from './image-folder.js';
export { fidelity, type Fidelity } from './fidelity.js';
export { compareModels, logitsOf } from './compare.js';
