export { type ClassifyOptions, type ClassifyResult, classifyTask } from './classify.js';
export { type EmbedResult, embedTask, embeddingOutput } from './embed.js';
export { nonFinite, softmax, topK, type Prediction } from './postprocess.js';
export { outputFor, registeredTasks, registerTask, taskOutputs } from './registry.js';
export type { AnyTask, ModelOutput, Task, TaskModel, TaskResult } from './task.js';
