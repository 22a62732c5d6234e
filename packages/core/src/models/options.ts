import { MobileNetError } from '../ir/errors.js';
import type { ParamFiller } from '../ir/params.js';
import { ARCHS, type Arch, CONVENTION, CONVENTIONS, type Convention } from './convention.js';
import { V4_ARCHS, V4_SPECS, isV4 } from './v4.js';
import { V4_CONVENTION, V4_CONVENTIONS, type V4Convention } from './v4-convention.js';

export interface ModelOptions {
  readonly arch: Arch;
  /** Width multiplier (alpha). Default 1. */
  readonly width?: number;
  /** Input height and width: a multiple of 32 from 32 up. Default 224. */
  readonly resolution?: number;
  /** Output classes. Default from the convention: 1001 (reference, with background) or 1000. */
  readonly classes?: number;
  /** Which implementation's choices to follow where they disagree. Default 'reference'. */
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
  readonly batch?: number | 'dynamic';
  /** Parameter data: a seed for torchvision's initialisation (`torchvisionFill`), a `ParamFiller`, or null for none (analysis only). */
  readonly weights?: number | ParamFiller | null;
}

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
  readonly batch: number | 'batch';
}

/** A model option with a value outside what is allowed; the message names the option, the value and the rule. */
export class OptionError extends MobileNetError {
  constructor(readonly option: string, expected: string, received: unknown) {
    super('option', `option ${option}`, expected, typeof received === 'string' ? `'${received}'` : String(received));
    this.name = 'OptionError';
  }
}

function check(ok: boolean, option: string, expected: string, value: unknown): void {
  if (!ok) throw new OptionError(option, expected, value);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates options at the edge and fills defaults; every model function takes only a resolved config. */
export function resolveOptions(o: ModelOptions): ModelConfig {
  const archs = [...ARCHS, ...V4_ARCHS];
  check(archs.includes(o.arch), 'arch', `one of ${archs.join(', ')}`, o.arch);
  const v4 = isV4(o.arch);
  const convention = o.convention ?? (v4 ? 'timm' : 'reference');
  check(CONVENTIONS.includes(convention), 'convention', `one of ${CONVENTIONS.join(', ')}`, convention);
  // v4 exists only as timm's port and the authors' TF code: no torchvision or Keras model to follow.
  check(!v4 || (V4_CONVENTIONS as readonly string[]).includes(convention), 'convention', `one of ${V4_CONVENTIONS.join(', ')} for ${o.arch}`, convention);
  const v4Spec = v4 ? V4_CONVENTION[convention as V4Convention] : undefined;
  const defaults = v4Spec ?? { classes: CONVENTION[convention].classes, bnEps: CONVENTION[convention].bnEps(o.arch) };
  const width = o.width ?? 1;
  check(isNum(width) && width > 0 && width <= 4, 'width', 'a number greater than 0 and at most 4', width);
  const resolution = o.resolution ?? (v4 ? V4_SPECS[o.arch].resolution : 224);
  check(Number.isInteger(resolution) && resolution >= 32 && resolution % 32 === 0, 'resolution', 'a multiple of 32, at least 32', resolution);
  const classes = o.classes ?? defaults.classes;
  check(Number.isInteger(classes) && classes >= 1, 'classes', 'an integer >= 1', classes);
  const dropout = o.dropout ?? (o.arch === 'v1' ? 0.001 : 0.2);
  check(isNum(dropout) && dropout >= 0 && dropout < 1, 'dropout', 'a number in [0, 1)', dropout);
  const v3 = o.arch.startsWith('v3');
  check(!o.minimalistic || v3, 'minimalistic', 'to be used with v3-large or v3-small only', `${o.minimalistic} with ${o.arch}`);
  check(!o.reducedTail || v3, 'reduced-tail', 'to be used with v3-large or v3-small only', `${o.reducedTail} with ${o.arch}`);
  check(!o.dilated || v3, 'dilated', 'to be used with v3-large or v3-small only', `${o.dilated} with ${o.arch}`);
  const depthMultiplier = o.depthMultiplier ?? 1;
  check(depthMultiplier === 1 || o.arch === 'v1', 'depth-multiplier', 'to be used with v1 only', `${depthMultiplier} with ${o.arch}`);
  check(Number.isInteger(depthMultiplier) && depthMultiplier >= 1 && depthMultiplier <= 8, 'depth-multiplier', 'an integer from 1 to 8', depthMultiplier);
  const expansion = o.expansion ?? 6;
  check(expansion === 6 || o.arch === 'v2', 'expansion', 'to be used with v2 only', `${expansion} with ${o.arch}`);
  check(isNum(expansion) && expansion >= 1 && expansion <= 16, 'expansion', 'a number from 1 to 16', expansion);
  const bnEps = o.bnEps ?? defaults.bnEps;
  check(isNum(bnEps) && bnEps > 0 && bnEps < 1, 'bn-eps', 'a number in (0, 1)', bnEps);
  const batch = o.batch ?? 1;
  check(batch === 'dynamic' || (Number.isInteger(batch) && batch >= 1), 'batch', "a positive integer or 'dynamic'", batch);
  return {
    arch: o.arch, width, resolution, classes, convention, dropout, bnEps, depthMultiplier, expansion,
    includeTop: o.includeTop ?? true,
    embedding: o.embedding ?? false,
    minimalistic: o.minimalistic ?? false,
    reducedTail: o.reducedTail ?? false,
    dilated: o.dilated ?? false,
    batch: batch === 'dynamic' ? 'batch' : batch,
  };
}
