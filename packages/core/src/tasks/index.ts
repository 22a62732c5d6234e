import './builtin.js';

export { type ClassifyOptions, type ClassifyResult, classifyTask } from './classify.js';
export { type EmbedResult, embedTask, embeddingOutput } from './embed.js';
export type { Detection, DetectOptions, DetectResult } from './detect.js';
export type { SegmentMask, SegmentResult } from './segment.js';
export { nonFinite, softmax, topK, type Prediction } from './postprocess.js';
export {
  type AnyTask,
  type ModelOutput,
  outputFor,
  registeredTasks,
  registerTask,
  type Task,
  type TaskModel,
  type TaskResult,
  taskOutputs,
} from './task.js';
