import { MobileNetError } from '../ir/errors.js';
import { isPositiveInteger } from '../ir/numbers.js';
import { describeValue, isTriple } from '../metadata/describe.js';
import { IMAGENET_MEAN, IMAGENET_STD, type Preprocessing } from '../metadata/preprocessing.js';
import type { Convention } from '../models/convention.js';
import type { Arch } from '../models/builtin.js';
import { TIMM_V4_CFGS } from '../models/builtin.js';

/**
 * timm's architecture names that we build, as data: the `architecture` of a Hugging Face repository's config.json
 * (timm's `model.pretrained_cfg['architecture']`) to our arch, width and convention, so that `hf-hub:timm/NAME.TAG`
 * needs no `--arch`. Each of these has its keys, shapes and logits checked against timm 1.0.29
 * (`fixtures/timm/timm-keys.json`, `fixtures/timm-v4/timm-v4-keys.json`); a name outside this table is refused.
 */
export interface TimmArchitecture {
  readonly arch: Arch;
  readonly width: number;
  readonly convention: Convention;
  readonly minimalistic?: boolean;
}

const timm = (arch: Arch, width: number): TimmArchitecture => ({ arch, width, convention: 'timm' });
const tf = (arch: Arch, width: number, minimalistic = false): TimmArchitecture => ({
  arch,
  width,
  convention: 'timm-tf',
  ...(minimalistic && { minimalistic }),
});

export const TIMM_ARCHITECTURES: Readonly<Record<string, TimmArchitecture>> = {
  mobilenetv1_100: timm('v1', 1),
  mobilenetv2_035: timm('v2', 0.35),
  mobilenetv2_050: timm('v2', 0.5),
  mobilenetv2_100: timm('v2', 1),
  mobilenetv2_140: timm('v2', 1.4),
  mobilenetv3_large_075: timm('v3-large', 0.75),
  mobilenetv3_large_100: timm('v3-large', 1),
  mobilenetv3_small_050: timm('v3-small', 0.5),
  mobilenetv3_small_075: timm('v3-small', 0.75),
  mobilenetv3_small_100: timm('v3-small', 1),
  tf_mobilenetv3_large_075: tf('v3-large', 0.75),
  tf_mobilenetv3_large_100: tf('v3-large', 1),
  tf_mobilenetv3_large_minimal_100: tf('v3-large', 1, true),
  tf_mobilenetv3_small_075: tf('v3-small', 0.75),
  tf_mobilenetv3_small_100: tf('v3-small', 1),
  tf_mobilenetv3_small_minimal_100: tf('v3-small', 1, true),
  ...Object.fromEntries(Object.entries(TIMM_V4_CFGS).map(([name, c]) => [name, timm(c.arch, c.width)])),
};

/**
 * Pretrained tags on the Hugging Face hub (timm 1.0.29's `default_cfgs` with `hf_hub_id='timm/'`) for the
 * architectures above, with ImageNet-1k top-1 at the tag's own input size and crop (timm's
 * `results/results-imagenet.csv`) and millions of parameters. `mobilenet weights list` prints them; any other tag
 * of a known architecture works too (its config.json says what it is).
 */
export interface TimmTag {
  readonly name: string;
  readonly acc1: number;
  readonly paramsM: number;
}
const t = (name: string, acc1: number, paramsM: number): TimmTag => ({ name, acc1, paramsM });
export const TIMM_TAGS: readonly TimmTag[] = [
  t('mobilenetv1_100.ra4_e3600_r224_in1k', 75.388, 4.23),
  t('mobilenetv2_050.lamb_in1k', 65.928, 1.97),
  t('mobilenetv2_100.ra_in1k', 72.91, 3.5),
  t('mobilenetv2_140.ra_in1k', 76.528, 6.11),
  t('mobilenetv3_large_100.ra_in1k', 75.784, 5.48),
  t('mobilenetv3_large_100.ra4_e3600_r224_in1k', 76.31, 5.48),
  t('mobilenetv3_large_100.miil_in21k_ft_in1k', 77.92, 5.48),
  t('mobilenetv3_small_050.lamb_in1k', 57.918, 1.59),
  t('mobilenetv3_small_075.lamb_in1k', 65.284, 2.04),
  t('mobilenetv3_small_100.lamb_in1k', 67.636, 2.54),
  t('tf_mobilenetv3_large_075.in1k', 73.442, 3.99),
  t('tf_mobilenetv3_large_100.in1k', 75.51, 5.48),
  t('tf_mobilenetv3_large_minimal_100.in1k', 72.27, 3.92),
  t('tf_mobilenetv3_small_075.in1k', 65.706, 2.04),
  t('tf_mobilenetv3_small_100.in1k', 67.922, 2.54),
  t('tf_mobilenetv3_small_minimal_100.in1k', 62.892, 2.04),
  t('mobilenetv4_conv_small_050.e3000_r224_in1k', 64.778, 2.24),
  t('mobilenetv4_conv_small.e2400_r224_in1k', 73.756, 3.77),
  t('mobilenetv4_conv_small.e1200_r224_in1k', 73.45, 3.77),
  t('mobilenetv4_conv_small.e3600_r256_in1k', 74.534, 3.77),
  t('mobilenetv4_conv_medium.e500_r224_in1k', 79.092, 9.72),
  t('mobilenetv4_conv_medium.e500_r256_in1k', 79.916, 9.72),
  t('mobilenetv4_conv_medium.e250_r384_in12k_ft_in1k', 82.776, 9.72),
  t('mobilenetv4_conv_large.e500_r256_in1k', 81.864, 32.59),
  t('mobilenetv4_conv_large.e600_r384_in1k', 82.974, 32.59),
  t('mobilenetv4_hybrid_medium.e500_r224_in1k', 80.432, 11.07),
  t('mobilenetv4_hybrid_medium.ix_e550_r256_in1k', 81.478, 11.07),
  t('mobilenetv4_hybrid_medium.ix_e550_r384_in1k', 82.952, 11.07),
  t('mobilenetv4_hybrid_medium.e200_r256_in12k_ft_in1k', 82.36, 11.07),
  t('mobilenetv4_hybrid_large.e600_r384_in1k', 83.826, 37.76),
  t('mobilenetv4_hybrid_large.ix_e600_r384_in1k', 83.996, 37.76),
];

/** What a timm repository's config.json says that we use. */
export interface TimmConfig {
  readonly architecture: string;
  readonly numClasses: number;
  /** timm's eval transform from `pretrained_cfg`, as ours; `size` is the model's input size. */
  readonly preprocessing: Preprocessing;
  readonly labelNames?: readonly string[];
  readonly license?: string;
  readonly tag?: string;
}

const fail = (where: string, expected: string, received: string): never => {
  throw new MobileNetError('timm-config', where, expected, received);
};

/** Names a JSON value by its type, never by echoing what a server put there at length. */
const kind = (v: unknown) => describeValue(v, 60);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function triple(v: unknown, where: string, positive: boolean): [number, number, number] {
  return isTriple(v, positive) ? v : fail(where, `3 finite numbers${positive ? ' above 0' : ''}`, kind(v));
}

/**
 * timm's eval transform (`timm.data.transforms_imagenet_eval` after `resolve_data_config`) from a pretrained_cfg:
 * input_size [3, H, H], crop_pct (default 0.875) giving a resize of floor(H / crop_pct), crop_mode 'center',
 * bilinear or bicubic, mean and std. What we cannot reproduce (non-square input, other crop modes, nearest) is
 * refused by name.
 */
export function timmPreprocessing(cfg: Record<string, unknown>, where: string): Preprocessing {
  const input = cfg.input_size ?? [3, 224, 224];
  const ok = Array.isArray(input) && input.length === 3 && input.every(isPositiveInteger);
  if (!ok) fail(`${where}.input_size`, '[3, H, W] with positive integers', kind(input));
  const [c, h, w] = input as number[];
  if (c !== 3 || h !== w || h! > 4096)
    fail(`${where}.input_size`, '[3, H, H]: 3 channels, a square input up to 4096', `[${c}, ${h}, ${w}]`);
  const cropPct = cfg.crop_pct ?? 0.875;
  if (typeof cropPct !== 'number' || !(cropPct > 0 && cropPct <= 1))
    fail(`${where}.crop_pct`, 'a number in (0, 1]', kind(cropPct));
  const mode = cfg.crop_mode ?? 'center';
  if (mode !== 'center') fail(`${where}.crop_mode`, "'center' (the crop mode we reproduce)", kind(mode));
  const interpolation = cfg.interpolation ?? 'bicubic';
  if (interpolation !== 'bilinear' && interpolation !== 'bicubic')
    fail(`${where}.interpolation`, "'bilinear' or 'bicubic'", kind(interpolation));
  return {
    mean: triple(cfg.mean ?? [...IMAGENET_MEAN], `${where}.mean`, false),
    std: triple(cfg.std ?? [...IMAGENET_STD], `${where}.std`, true),
    resizeMode: 'crop',
    resize: Math.floor(h! / (cropPct as number)),
    size: h!,
    interpolation: interpolation as Preprocessing['interpolation'],
  };
}

/** A list of names for the classes: a list of strings, or timm's `{index: name}` without gaps. */
function labelNames(v: unknown, classes: number, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = isObject(v) ? Array.from({ length: classes }, (_, i) => v[String(i)]) : v;
  if (!Array.isArray(list) || list.length !== classes || !list.every((x) => typeof x === 'string' && x.length < 256))
    return fail(`${where}.label_names`, `${classes} strings (one per class)`, kind(v));
  return list as string[];
}

/**
 * Reads a timm repository's config.json (timm's `save_config_for_hf`): `architecture`, `num_classes`,
 * `pretrained_cfg` and optional `label_names`. `where` names the file in errors.
 */
export function readTimmConfig(text: string, where: string): TimmConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return fail(where, 'JSON (a timm config.json)', `${text.length} bytes that do not parse`);
  }
  if (!isObject(v)) return fail(where, 'a JSON object (a timm config.json)', kind(v));
  const architecture = v.architecture;
  if (typeof architecture !== 'string' || !/^[\w.-]{1,100}$/.test(architecture))
    fail(`${where}: architecture`, "timm's architecture name", kind(architecture));
  const cfg = v.pretrained_cfg ?? {};
  if (!isObject(cfg)) return fail(`${where}: pretrained_cfg`, 'an object', kind(cfg));
  const numClasses = v.num_classes ?? cfg.num_classes ?? 1000;
  if (!isPositiveInteger(numClasses) || numClasses > 1 << 20)
    fail(`${where}: num_classes`, 'a positive integer', kind(numClasses));
  const labels = labelNames(v.label_names ?? cfg.label_names, numClasses as number, where);
  return {
    architecture: architecture as string,
    numClasses: numClasses as number,
    preprocessing: timmPreprocessing(cfg, `${where}: pretrained_cfg`),
    ...(labels && { labelNames: labels }),
    ...(typeof cfg.license === 'string' && { license: cfg.license.slice(0, 100) }),
    ...(typeof cfg.tag === 'string' && { tag: cfg.tag.slice(0, 100) }),
  };
}

/** Our model for a timm architecture, or an error naming it and listing the ones we build. */
export function timmArchitecture(architecture: string, where: string): TimmArchitecture {
  const a = Object.hasOwn(TIMM_ARCHITECTURES, architecture) ? TIMM_ARCHITECTURES[architecture] : undefined;
  if (!a)
    throw new MobileNetError(
      'timm-architecture',
      where,
      `one of the timm architectures we build: ${Object.keys(TIMM_ARCHITECTURES).join(', ')}`,
      `'${architecture}'`,
    );
  return a;
}
