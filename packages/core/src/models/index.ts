export { buildModel, modelName, type Model } from './build.js';
export { type ModelOptions, type ModelConfig, OptionError, resolveOptions } from './options.js';
export { ARCHS, CONVENTIONS, CONVENTION, makeDivisible, type Arch, type Convention, type Preprocessing } from './convention.js';
export { V1_LAYERS } from './v1.js';
export { V2_ROWS } from './v2.js';
export { V3_LARGE, V3_SMALL, V3_HEAD, type V3Row } from './v3.js';
export { V4_ARCHS, V4_SPECS, isV4, type V4Arch, type V4Block, type V4Spec } from './v4.js';
export { V4_CONVENTION, V4_CONVENTIONS, TIMM_V4_CFGS, timmV4Name, type V4Convention } from './v4-convention.js';
