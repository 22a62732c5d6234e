export { buildModel, modelName, type Model } from './build.js';
export { type ModelOptions, type ModelConfig, MODEL_LIMITS, OptionError, resolveOptions } from './options.js';
export {
  CONVENTIONS,
  CONVENTION,
  makeDivisible,
  torchvisionPreprocessing,
  type Convention,
  type Preprocessing,
} from './convention.js';
export {
  ARCHS,
  type Arch,
  allFamilies,
  archs,
  archsWithConvention,
  archsWithOption,
  conventionFor,
  familyOf,
  isArch,
  registerFamily,
} from './registry.js';
export {
  type ConventionBase,
  type Family,
  type FamilyDefinition,
  type FamilyOption,
  type FamilyOptionSpec,
  type FamilyWeights,
  FAMILY_OPTIONS,
  defineFamily,
} from './family.js';
export { V1, V1_LAYERS, type V1Convention } from './v1.js';
export { V2, V2_ROWS } from './v2.js';
export { V3, V3_LARGE, V3_SMALL, V3_HEAD, type V3Arch, type V3Convention, type V3Row } from './v3.js';
export { V4, V4_ARCHS, V4_SPECS, type V4Arch, type V4Block, type V4Spec } from './v4.js';
export {
  V4_CONVENTION,
  V4_CONVENTIONS,
  type V4ConventionSpec,
  TIMM_V4_CFGS,
  timmV4Name,
  type V4Convention,
} from './v4-convention.js';
