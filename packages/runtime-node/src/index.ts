export { createSession, type NodeSession, type NodeSessionOptions, type ModelSource } from './session.js';
export { availableBackends, NODE_BACKENDS, ortBinaryDir } from './backends.js';
export { decodeImage, DEFAULT_MAX_PIXELS, type DecodeOptions, ImageError, type ImageInput } from './image.js';
export { classifyAll, embedAll, type BatchStats, type ImageSources, type PipelineOptions } from './pipeline.js';
export { decodeFor, DECODE_MODES, type DecodeMode } from './decode-fast.js';
export { profileModel, blockOf, type ModelProfile, type ProfileRow } from './profile.js';
export { formatProfile, shareChart, stagesChart } from './profile-chart.js';
