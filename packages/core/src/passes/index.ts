export { type Pass, pruneInitializers, sequence } from './pass.js';
export { clipAsHardSigmoid } from './clip-as-hard-sigmoid.js';
export { gateFirst } from './gate-first.js';
export { identityConstants } from './identity-constants.js';
export { foldBatchNorm } from './fold-batch-norm.js';
export { lowerToOpset } from './lower-opset.js';
