import { type BatchOption, type DYNAMIC_BATCH, resolveBatch } from '../ir/batch.js';
import { MobileNetError } from '../ir/errors.js';
import type { ParamFiller } from '../ir/params.js';
import { CONVENTIONS, type Convention, type Preprocessing } from './convention.js';
import { type ConventionBase, FAMILY_OPTIONS, type Family, type FamilyOption } from './family.js';
import { type Arch, archs, archsWithOption, familyOf } from './registry.js';

export interface ModelOptions {
  readonly arch: Arch;
  /** Width multiplier (alpha). Default 1. */
  readonly width?: number;
  /** Input height and width: a multiple of 32 from 32 up. Default: the paper's for the arch (224 for v1-v3). */
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

export interface ModelConfig {
  readonly arch: Arch;
  readonly width: number;
  readonly resolution: number;
  readonly classes: number;
  readonly convention: Convention;
  readonly dropout: number;
  readonly includeTop: boolean;
  readonly embedding: boolean;
  readonly minimalistic: boolean;
  readonly reducedTail: boolean;
  readonly dilated: boolean;
  readonly depthMultiplier: number;
  readonly expansion: number;
  readonly bnEps: number;
  readonly batch: number | typeof DYNAMIC_BATCH;
  /** The arch's family in the registry: its builder, options and weight layout. */
  readonly family: Family;
  /** The convention's choices for this family, resolved once: padding, head, defaults. */
  readonly spec: ConventionBase;
  /** How images become input for this model (stored in the ONNX metadata). */
  readonly preprocessing: Preprocessing;
}

/** A model option with a value outside what is allowed; the message names the option, the value and the rule. */
export class OptionError extends MobileNetError {
  constructor(
    readonly option: string,
    expected: string,
    received: unknown,
  ) {
    super('option', `option ${option}`, expected, typeof received === 'string' ? `'${received}'` : String(received));
    this.name = 'OptionError';
  }
}

function check(ok: boolean, option: string, expected: string, value: unknown): void {
  if (!ok) throw new OptionError(option, expected, value);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The options only some families take: given (not at its neutral value) to another family, refused naming the
 * archs that take it; given to its family, checked by the family's rule.
 */
function familyOptions(
  o: ModelOptions,
  options: Partial<Record<FamilyOption, { readonly check?: { ok: (v: number) => boolean; expected: string } }>>,
) {
  for (const key of Object.keys(FAMILY_OPTIONS) as FamilyOption[]) {
    const { name, neutral } = FAMILY_OPTIONS[key];
    const value = o[key] ?? neutral;
    const own = options[key];
    if (!own)
      check(
        value === neutral,
        name,
        `to be used with ${archsWithOption(key).join(' or ')} only`,
        `${value} with ${o.arch}`,
      );
    else if (own.check && typeof value === 'number')
      check(isNum(value) && own.check.ok(value), name, own.check.expected, value);
  }
}

/** Validates options at the edge and fills defaults; every model function takes only a resolved config. */
export function resolveOptions(o: ModelOptions): ModelConfig {
  const family = familyOf(o.arch);
  if (!family) throw new OptionError('arch', `one of ${archs().join(', ')}`, o.arch);
  const convention = o.convention ?? family.defaultConvention;
  check(CONVENTIONS.includes(convention), 'convention', `one of ${CONVENTIONS.join(', ')}`, convention);
  const spec = family.spec(convention);
  if (!spec) throw new OptionError('convention', `one of ${family.conventions.join(', ')} for ${o.arch}`, convention);
  const width = o.width ?? 1;
  check(isNum(width) && width > 0 && width <= 4, 'width', 'a number greater than 0 and at most 4', width);
  const resolution = o.resolution ?? family.resolution(o.arch);
  check(
    Number.isInteger(resolution) && resolution >= 32 && resolution % 32 === 0,
    'resolution',
    'a multiple of 32, at least 32',
    resolution,
  );
  check(
    o.allowLarge === true || resolution <= MODEL_LIMITS.resolution,
    'resolution',
    `at most ${MODEL_LIMITS.resolution} (allowLarge lifts the cap)`,
    resolution,
  );
  const classes = o.classes ?? spec.classes;
  check(Number.isInteger(classes) && classes >= 1, 'classes', 'an integer >= 1', classes);
  check(
    o.allowLarge === true || classes <= MODEL_LIMITS.classes,
    'classes',
    `at most ${MODEL_LIMITS.classes} (allowLarge lifts the cap)`,
    classes,
  );
  const dropout = o.dropout ?? family.dropout;
  check(isNum(dropout) && dropout >= 0 && dropout < 1, 'dropout', 'a number in [0, 1)', dropout);
  familyOptions(o, family.options);
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
    depthMultiplier: o.depthMultiplier ?? FAMILY_OPTIONS.depthMultiplier.neutral,
    expansion: o.expansion ?? FAMILY_OPTIONS.expansion.neutral,
    includeTop: o.includeTop ?? true,
    embedding: o.embedding ?? false,
    minimalistic: o.minimalistic ?? false,
    reducedTail: o.reducedTail ?? false,
    dilated: o.dilated ?? false,
    batch: resolveBatch(o.batch ?? 1),
    family,
    spec,
    preprocessing: spec.preprocessing({ arch: o.arch, width, resolution }),
  };
}
