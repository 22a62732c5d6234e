import { MobileNetError } from '../ir/errors.js';
import { quotePath } from '../ir/quote.js';
import { describeValue, isTriple } from './describe.js';
import { METADATA_KEYS } from './keys.js';

/** How an image becomes the input tensor; stored in the ONNX metadata so a runtime can follow it. */
export interface Preprocessing {
  /** Per-channel mean and std applied to pixels scaled to [0, 1] (RGB). [-1, 1] input is mean 0.5, std 0.5. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /**
   * 'crop': resize the short side to `resize` then center-crop `size` (torchvision, timm, TF-slim eval);
   * 'squash': resize straight to `size`, ignoring aspect (Keras load_img, tfjs).
   */
  readonly resizeMode: 'crop' | 'squash';
  readonly resize: number;
  readonly size: number;
  readonly interpolation: 'bilinear' | 'bicubic';
}

/** ImageNet's per-channel mean of [0, 1] RGB pixels (torchvision's, timm's IMAGENET_DEFAULT_MEAN). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/** ImageNet's per-channel std of [0, 1] RGB pixels (timm's IMAGENET_DEFAULT_STD). */
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Mean and std 0.5: input in [-1, 1] (TF-slim, Keras, timm's IMAGENET_INCEPTION_*). */
export const HALF_RANGE = [0.5, 0.5, 0.5] as const;

/** The eval transform of torchvision, timm and TF-slim: resize the short side to floor(size / cropPct), crop size. */
export const centerCrop = (
  mean: Preprocessing['mean'],
  std: Preprocessing['std'],
  size: number,
  interpolation: Preprocessing['interpolation'],
  cropPct = 0.875,
): Preprocessing => ({ mean, std, resizeMode: 'crop', resize: Math.floor(size / cropPct), size, interpolation });

/** torchvision's eval transform at an input size: the default for a model file that does not say its own. */
export const torchvisionPreprocessing = (size: number): Preprocessing =>
  centerCrop(IMAGENET_MEAN, IMAGENET_STD, size, 'bilinear');

/** Longest side a preprocessing may resize to: the resize makes an image of resize x resize x 3 floats per row pass. */
export const MAX_RESIZE = 16384;

const fail = (where: string, expected: string, received: string): never => {
  throw new MobileNetError('preprocessing', where, expected, received);
};
const kind = (v: unknown) => describeValue(v);

function triple(v: unknown, where: string, positive: boolean): [number, number, number] {
  return isTriple(v, positive) ? v : fail(where, `3 finite numbers${positive ? ' above 0' : ''}`, kind(v));
}

function side(v: unknown, where: string): number {
  return Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= MAX_RESIZE
    ? (v as number)
    : fail(where, `an integer from 1 to ${MAX_RESIZE}`, kind(v));
}

/**
 * Checks preprocessing once, when a session opens: a missing field would otherwise fail once per image, and a std
 * of 0 would turn every probability into NaN.
 */
export function checkPreprocessing(p: unknown, where: string): Preprocessing {
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    return fail(where, 'an object {mean, std, resizeMode, resize, size, interpolation}', kind(p));
  const o = p as Record<string, unknown>;
  const mean = triple(o.mean, `${where}.mean`, false);
  const std = triple(o.std, `${where}.std`, true);
  if (o.resizeMode !== 'crop' && o.resizeMode !== 'squash')
    fail(`${where}.resizeMode`, "'crop' or 'squash'", kind(o.resizeMode));
  if (o.interpolation !== 'bilinear' && o.interpolation !== 'bicubic')
    fail(`${where}.interpolation`, "'bilinear' or 'bicubic'", kind(o.interpolation));
  const size = side(o.size, `${where}.size`);
  const resize = side(o.resize, `${where}.resize`);
  if (o.resizeMode === 'crop' && resize < size)
    fail(`${where}.resize`, `at least size (${size}): the crop is taken from the resized image`, `${resize}`);
  return {
    mean,
    std,
    resizeMode: o.resizeMode as Preprocessing['resizeMode'],
    resize,
    size,
    interpolation: o.interpolation as Preprocessing['interpolation'],
  };
}

/** Parses and checks the preprocessing a model's metadata carries; `where` names the file and the key. */
export function parsePreprocessing(json: string, where: string): Preprocessing {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return fail(where, 'JSON', `${json.length} characters that do not parse`);
  }
  return checkPreprocessing(value, where);
}

/** Where messages name the preprocessing of a model: `model` is how they name the model ("model 'm.onnx'"). */
export const preprocessingWhere = (model: string): string => `${model}: metadata '${METADATA_KEYS.preprocessing}'`;

/**
 * The preprocessing a model's metadata carries, checked; undefined when it carries none (an empty value counts as
 * none). `model` is how messages name the model, e.g. "model 'm.onnx'".
 */
export function readPreprocessing(
  metadata: Readonly<Record<string, string>>,
  model: string,
): Preprocessing | undefined {
  const raw = Object.hasOwn(metadata, METADATA_KEYS.preprocessing) ? metadata[METADATA_KEYS.preprocessing] : undefined;
  return raw ? parsePreprocessing(raw, preprocessingWhere(model)) : undefined;
}

/**
 * A model's own preprocessing, which a step (calibration, a check, a comparison) cannot do without: a model without
 * it (not made by mobilenet-ts) is an error naming the model and the step that needed it.
 */
export function preprocessingOf(
  metadata: Readonly<Record<string, string>>,
  model: string,
  step: string,
): Preprocessing {
  const where = `model ${quotePath(model)}`;
  const pre = readPreprocessing(metadata, where);
  if (pre) return pre;
  throw new MobileNetError(
    step,
    where,
    `metadata '${METADATA_KEYS.preprocessing}' (a model made by mobilenet-ts)`,
    'none',
  );
}
