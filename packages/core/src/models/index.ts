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
export * from './builtin.js';
