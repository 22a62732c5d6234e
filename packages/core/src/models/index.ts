// The models' public face. builtin.ts comes first: v1-v4 are registered before anything here can look one up.
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
export type { Net, OptionSpecs, OptionValues, ResolvedConfig } from './contract.js';
// The built-in families' public names (V1-V4, their tables and conventions), gathered where they are registered.
export {
  type Arch,
  ARCHS,
  archsWithConvention,
  BUILT_IN,
  isArch,
  TIMM_V4_CFGS,
  type TimmV4Cfg,
  timmV4Name,
  V1,
  V1_LAYERS,
  type V1Convention,
  V2,
  V2_ROWS,
  V3,
  V3_HEAD,
  V3_LARGE,
  V3_SMALL,
  type V3Arch,
  type V3Convention,
  type V3Nonlinearity,
  type V3Row,
  V4,
  V4_ARCHS,
  V4_CONVENTION,
  V4_CONVENTIONS,
  V4_SPECS,
  type V4Arch,
  type V4Block,
  type V4Convention,
  type V4ConventionSpec,
  type V4DwKernel,
  type V4Spec,
  type V4Stride,
} from './builtin.js';
