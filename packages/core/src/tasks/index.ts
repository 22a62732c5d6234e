export { type ClassifyOptions, type ClassifyResult, classifyTask } from './classify.js';
export {
  type DetectFields,
  type Detection,
  type DetectOptions,
  type DetectResult,
  detectOptions,
  detectTask,
  GRAPH_DETECTION_OUTPUTS,
  RAW_DETECTION_OUTPUTS,
} from './detect.js';
export { type EmbedResult, embedTask, embeddingOutput } from './embed.js';
export { nonFinite, softmax, topK, type Prediction } from './postprocess.js';
export { outputsFor, registeredTasks, registerTask, taskOutputs } from './registry.js';
export { resizeArgmax, resizePlanes, resizeSoftmax } from './resize-argmax.js';
export {
  MAX_PROBABILITY_VALUES,
  MAX_SEGMENT_CLASSES,
  SEGMENTATION_OUTPUT,
  type SegmentFields,
  type SegmentMask,
  type SegmentOptions,
  type SegmentResult,
  segmentTask,
} from './segment.js';
export type {
  AnyTask,
  ExtraFeed,
  ModelOutput,
  SourceImage,
  Task,
  TaskModel,
  TaskResult,
} from './task.js';
