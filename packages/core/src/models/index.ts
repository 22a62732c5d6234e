// The models' public face. builtin.ts comes first: v1-v4 are registered before anything here can look one up.
export { ARCHS, type Arch, archsWithConvention, isArch } from './builtin.js';
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
  allFamilies,
  archs,
  archsWithOption,
  conventionFor,
  familyFor,
  familyOf,
  familyOptions,
  registerFamily,
  type RegisteredOption,
} from './registry.js';
export {
  type ConventionBase,
  type Family,
  type FamilyDefinition,
  type FamilyOptionSpec,
  type FamilyOptionValue,
  type FamilyWeights,
  defineFamily,
} from './family.js';
export type { Net, ResolvedConfig } from './contract.js';
export {
  V1,
  V1_LAYERS,
  type V1Convention,
  V2,
  V2_ROWS,
  V3,
  V3_LARGE,
  V3_SMALL,
  V3_HEAD,
  type V3Arch,
  type V3Convention,
  type V3Row,
  V4,
  V4_ARCHS,
  V4_SPECS,
  type V4Arch,
  type V4Block,
  type V4Spec,
  V4_CONVENTION,
  V4_CONVENTIONS,
  type V4ConventionSpec,
  TIMM_V4_CFGS,
  timmV4Name,
  type V4Convention,
} from './builtin.js';
