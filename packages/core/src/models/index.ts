export { buildModel, modelName, type Model } from './build.js';
export { type ModelOptions, type ModelConfig, OptionError, resolveOptions } from './options.js';
export { ARCHS, CONVENTIONS, CONVENTION, makeDivisible, type Arch, type Convention, type Preprocessing } from './convention.js';
export { V1_LAYERS } from './v1.js';
export { V2_ROWS } from './v2.js';
export { V3_LARGE, V3_SMALL, V3_HEAD, type V3Row } from './v3.js';
