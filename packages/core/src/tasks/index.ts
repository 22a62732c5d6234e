export { type ClassifyOptions, type ClassifyResult, classifyTask } from './classify.js';
export { type EmbedResult, embedTask, embeddingOutput } from './embed.js';
export type { Detection, DetectOptions, DetectResult } from './detect.js';
export type { SegmentMask, SegmentResult } from './segment.js';
export { nonFinite, softmax, topK, type Prediction } from './postprocess.js';
export { outputFor, registeredTasks, registerTask, taskOutputs } from './registry.js';
export type { AnyTask, ModelOutput, Task, TaskModel, TaskResult } from './task.js';
