export { toOnnx, type WriteOptions } from './write.js';
export { fromOnnx, type ReadModel } from './read.js';
export { summarizeOnnx, type ModelSummary } from './summary.js';
export { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, irVersionFor } from './opset.js';
export { type Target, TARGETS, lowerForTarget } from './targets.js';
