export { BatchSizer } from './batch-sizer.js';
export { pipelineResults, type TaskPipelineModel } from './results.js';
export { pipelineRows } from './rows.js';
export { Slots } from './slots.js';
export type {
  BatchStats,
  ImageTiming,
  PipelineDecoder,
  PipelineModel,
  PipelinePlan,
  PreparedImage,
  PipelineRead,
  PipelineRow,
  PipelineSources,
} from './types.js';
