export { type Pass, pruneInitializers, sequence } from './pass.js';
export { clipAsHardSigmoid } from './clip-as-hard-sigmoid.js';
export { gateFirst } from './gate-first.js';
export { identityConstants } from './identity-constants.js';
export { foldBatchNorm } from './fold-batch-norm.js';
export { lowerToOpset } from './lower-opset.js';
export {
  quantize,
  activationParams,
  QUANTIZE_DEFAULTS,
  INT8_METADATA_KEY,
  type Int8Record,
  type QuantizeOptions,
  type KeepFloat,
} from './quantize/qdq.js';
export { quantizeWeight, INT8_TARGETS, PAIR_LIMIT, type Int8Target } from './quantize/weights.js';
export { observeActivations } from './quantize/observe.js';
export { emulateAvx2U8S8, type EmulateOptions } from './quantize/emulate-u8s8.js';
export { int8Kernels, cpuFlags, type Int8Kernels, type Int8KernelPath } from './quantize/kernels.js';
export {
  RangeCollector,
  CalibrationError,
  CALIBRATION_METHODS,
  modelIdentity,
  readCalibration,
  type CalibrationMethod,
  type CalibrationRanges,
  type ModelIdentity,
  type TensorRange,
} from './quantize/ranges.js';
export {
  toFloat16,
  toHalfBits,
  fromHalfBits,
  float32Nodes,
  float16Hazards,
  FLOAT32_OPS,
  FLOAT16_MAX,
  FLOAT16_MIN,
  type Float16Options,
  type Float16Hazard,
} from './float16.js';
