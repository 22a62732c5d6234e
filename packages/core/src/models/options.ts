import { type BatchOption, resolveBatch } from '../ir/batch.js';
import { OptionError } from '../ir/errors.js';
import { isPositiveInteger } from '../ir/numbers.js';
import type { ParamFiller } from '../ir/params.js';
// Registers v1-v4 before any option is resolved, whichever module a caller imported first.
import './builtin.js';
import type { Arch, DenseArch } from './builtin.js';
import type { Convention, FamilyOptionValue, ResolutionRule, ResolvedConfig } from './contract.js';
import { CONVENTIONS } from './convention.js';
import { familyFor, familyOptions } from './registry.js';

export { OptionError } from '../ir/errors.js';

export interface ModelOptions {
  readonly arch: Arch | DenseArch;
  /** Width multiplier (alpha). Default 1. */
  readonly width?: number;
  /**
   * Input height and width: a multiple of 32 from 32 up (the segmentation archs take any size from 32, SSDLite320
   * only 320). Default: the paper's for the arch (224 for v1-v3), 320 for SSDLite, 520 for segmentation.
   */
  readonly resolution?: number;
  /** Output classes. Default from the convention: 1001 (reference, with background) or 1000. */
  readonly classes?: number;
  /** Which implementation's choices to follow where they disagree. Default: the family's ('reference'; v4 'timm'). */
  readonly convention?: Convention;
  /** Dropout before the classifier; recorded in metadata (it is the identity at inference). */
  readonly dropout?: number;
  /** false: no classifier; outputs the last feature map ('features') and its pooled vector ('embedding'). */
  readonly includeTop?: boolean;
  /** Also output the pooled feature vector ('embedding') next to the logits. */
  readonly embedding?: boolean;
  /** v3 only: no squeeze-excite, no h-swish, 3x3 kernels only (TF-slim's and Keras's minimalistic models). */
  readonly minimalistic?: boolean;
  /** v3 only: halve the channels of the last stage and the head (torchvision `reduced_tail`, for detection). */
  readonly reducedTail?: boolean;
  /** v3 only: dilation 2 instead of stride 2 in the last stage, output stride 16 (torchvision `dilated`, for segmentation). */
  readonly dilated?: boolean;
  /** deeplabv3-v3-large only: also output the FCN auxiliary head's logits ('aux'). Default false. */
  readonly aux?: boolean;
  /** v1 only: channel multiplier of the depthwise convs (Keras `depth_multiplier`). Default 1. */
  readonly depthMultiplier?: number;
  /** v2 only: expansion factor t of every bottleneck but the first. Default 6. */
  readonly expansion?: number;
  /** BatchNorm epsilon; default from the convention. */
  readonly bnEps?: number;
  /** Leading dimension of the input: a size or 'dynamic'. Default 1. */
  readonly batch?: BatchOption;
  /** Parameter data: a seed for torchvision's initialisation, a `ParamFiller`, or null for none (analysis only). */
  readonly weights?: number | ParamFiller | null;
  /**
   * The initialiser supplies trained weights (a checkpoint), not seeded ones. Recorded in the metadata
   * (`mobilenet.config` weights: 'trained' | 'seeded' | 'none') so a runtime can say when labels carry no meaning.
   */
  readonly trained?: boolean;
  /** Lift `MODEL_LIMITS` (the CLI's --allow-large). */
  readonly allowLarge?: boolean;
}

/**
 * Caps on what has no sane use, the same as the CLI's: a resolution of 1e9 or 1e9 classes would ask for exabytes
 * of weights or activations before failing somewhere deep. `allowLarge` lifts them.
 */
export const MODEL_LIMITS = { resolution: 1024, classes: 32768 } as const;

/**
 * A resolved config: every option checked and defaulted. The built-in families' options have their own fields
 * (as in `ModelOptions`); every family's, built-in or registered, are in `options` too.
 */
type BuiltinOption = 'minimalistic' | 'reducedTail' | 'dilated' | 'depthMultiplier' | 'expansion';

export interface ModelConfig extends ResolvedConfig<Arch | DenseArch> {
  readonly minimalistic: boolean;
  readonly reducedTail: boolean;
  readonly dilated: boolean;
  readonly depthMultiplier: number;
  readonly expansion: number;
}

/** The classifiers' input sizes: five stride-2 stages, so a multiple of 32. */
const MULTIPLE_OF_32: ResolutionRule = {
  ok: (r) => r >= 32 && r % 32 === 0,
  expected: 'a multiple of 32, at least 32',
};

function check(ok: boolean, option: string, expected: string, value: unknown): void {
  if (!ok) throw new OptionError(option, expected, value);
}

/** A value under its `MODEL_LIMITS` cap, unless `allowLarge` lifts it. */
function capped(o: ModelOptions, option: keyof typeof MODEL_LIMITS, value: number): void {
  const limit = MODEL_LIMITS[option];
  check(o.allowLarge === true || value <= limit, option, `at most ${limit} (allowLarge lifts the cap)`, value);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The options only some families take, each declared by its family: given (not at its neutral value) to another
 * family, refused naming the archs that take it; given to its family, checked by the family's rule. Returns every
 * registered option's value, given or neutral.
 */
function familyOptionValues(o: ModelOptions, family: ResolvedConfig['family']): Record<string, FamilyOptionValue> {
  const given = o as unknown as Readonly<Record<string, FamilyOptionValue | undefined>>;
  const values: Record<string, FamilyOptionValue> = {};
  for (const { key, spec, families } of familyOptions()) {
    const value = given[key] ?? spec.neutral;
    const own = family.options[key];
    if (!own)
      check(
        value === spec.neutral,
        spec.name,
        `to be used with ${families.flatMap((f) => f.archs).join(' or ')} only`,
        `${value} with ${o.arch}`,
      );
    else if (own.check && typeof value === 'number')
      check(isNum(value) && own.check.ok(value), spec.name, own.check.expected, value);
    values[key] = value;
  }
  return values;
}

/** Validates options at the edge and fills defaults; every model function takes only a resolved config. */
export function resolveOptions(o: ModelOptions): ModelConfig {
  const family = familyFor(o.arch);
  const convention = o.convention ?? family.defaultConvention;
  check(CONVENTIONS.includes(convention), 'convention', `one of ${CONVENTIONS.join(', ')}`, convention);
  const spec = family.spec(convention);
  if (!spec) throw new OptionError('convention', `one of ${family.conventions.join(', ')} for ${o.arch}`, convention);
  const width = o.width ?? 1;
  check(isNum(width) && width > 0 && width <= 4, 'width', 'a number greater than 0 and at most 4', width);
  const resolution = o.resolution ?? family.resolution(o.arch);
  const rule = family.dense?.resolution ?? MULTIPLE_OF_32;
  check(Number.isInteger(resolution) && rule.ok(resolution), 'resolution', rule.expected, resolution);
  capped(o, 'resolution', resolution);
  const classes = o.classes ?? spec.classes;
  check(isPositiveInteger(classes), 'classes', 'an integer >= 1', classes);
  capped(o, 'classes', classes);
  const dropout = o.dropout ?? family.dropout;
  check(isNum(dropout) && dropout >= 0 && dropout < 1, 'dropout', 'a number in [0, 1)', dropout);
  const options = familyOptionValues(o, family);
  // The built-in families' option fields; builtin.ts registered their options, so each has a value.
  const builtin = options as unknown as Pick<ModelConfig, BuiltinOption>;
  const bnEps = o.bnEps ?? spec.bnEps;
  check(isNum(bnEps) && bnEps > 0 && bnEps < 1, 'bn-eps', 'a number in (0, 1)', bnEps);
  return {
    arch: o.arch,
    width,
    resolution,
    classes,
    convention,
    dropout,
    bnEps,
    depthMultiplier: builtin.depthMultiplier,
    expansion: builtin.expansion,
    includeTop: o.includeTop ?? true,
    embedding: o.embedding ?? false,
    minimalistic: builtin.minimalistic,
    reducedTail: builtin.reducedTail,
    dilated: builtin.dilated,
    batch: resolveBatch(o.batch ?? 1),
    family,
    spec,
    preprocessing: spec.preprocessing({ arch: o.arch, width, resolution }),
    options,
  };
}
