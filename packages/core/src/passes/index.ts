export { type Pass, pruneInitializers, sequence } from './pass.js';
export { clipAsHardSigmoid } from './clip-as-hard-sigmoid.js';
export { gateFirst } from './gate-first.js';
export { identityConstants } from './identity-constants.js';
export { foldBatchNorm } from './fold-batch-norm.js';
export { lowerToOpset } from './lower-opset.js';
export {
  quantize,
  quantizeWeight,
  activationParams,
  QUANTIZE_DEFAULTS,
  type QuantizeOptions,
  type KeepFloat,
} from './quantize/qdq.js';
export { observeActivations } from './quantize/observe.js';
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
export { toFloat16, toHalfBits, fromHalfBits, FLOAT32_OPS, type Float16Options } from './float16.js';
