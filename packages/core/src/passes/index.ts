export { type Pass, pruneInitializers } from './pass.js';
export { clipAsHardSigmoid } from './clip-as-hard-sigmoid.js';
export { gateFirst } from './gate-first.js';
export { identityConstants } from './identity-constants.js';
