import { readFile } from 'node:fs/promises';
import { type Preprocessing, type RgbImage, resizePlan } from '@mobilenet/core';
import sharp from 'sharp';
import { type DecodeOptions, type ImageInput, DEFAULT_MAX_PIXELS, decodeImage } from './image.js';
import { readHeader } from './image-header.js';

/**
 * How images are decoded for a model:
 * - 'exact': full-size decode, then our resize (torchvision's antialiased maths, to 2e-5);
 * - 'shrink-on-load': for an image at least twice the resize target on its short side, libvips decodes it at a
 *   reduced scale (JPEG DCT scaling) and resizes it to the resize target with the matching kernel on its own threads;
 *   only the crop and normalization are ours. Faster on large photos, not bit-identical: its cost is measured in
 *   apps/bench/src/pipeline.ts and docs/benchmarks.md. Smaller images take the exact path.
 */
export type DecodeMode = 'exact' | 'shrink-on-load';

export const DECODE_MODES: readonly DecodeMode[] = ['exact', 'shrink-on-load'];

/** libvips' kernels closest to PIL's and torch's antialiased filters (both widen the kernel when reducing). */
const KERNEL = { bilinear: 'linear', bicubic: 'cubic' } as const;

/** EXIF orientations 5-8 swap width and height. */
const swapsAxes = (orientation: number | undefined) =>
  orientation !== undefined && orientation >= 5 && orientation <= 8;

async function bytesOf(input: string | Uint8Array | { readonly bytes: Uint8Array }): Promise<Uint8Array | null> {
  if (typeof input !== 'string') return input instanceof Uint8Array ? input : input.bytes;
  try {
    return await readFile(input);
  } catch {
    return null; // the exact path reads it again and names the error
  }
}

/**
 * Decodes `input` for a model with preprocessing `pre`. In 'shrink-on-load' mode a large image comes back already
 * at the resize target (e.g. 341x256 for Resize(256)), so `preprocess` only crops and normalizes it. Any failure on
 * the fast path is handed to the exact decoder, whose errors name the image the same way in both modes.
 */
export async function decodeFor(
  input: ImageInput,
  name: string,
  pre: Preprocessing,
  mode: DecodeMode,
  options: DecodeOptions = {},
): Promise<RgbImage> {
  if (mode === 'exact' || (typeof input === 'object' && !(input instanceof Uint8Array) && 'data' in input))
    return decodeImage(input, name, options);
  const bytes = await bytesOf(input);
  if (!bytes) return decodeImage(input, name, options);
  try {
    const fast = await shrunk(bytes, pre, options.maxPixels ?? DEFAULT_MAX_PIXELS);
    if (fast) return fast;
  } catch {
    // fall through: the exact decoder reports the error
  }
  return decodeImage(typeof input === 'string' ? { name, bytes } : input, name, options);
}

/**
 * The libvips path, or null when the image is under twice the resize target (no gain) or over `maxPixels` (the
 * exact path reports it): the exact decoder takes over.
 */
async function shrunk(bytes: Uint8Array, pre: Preprocessing, maxPixels: number): Promise<RgbImage | null> {
  const meta = await sizeOf(bytes);
  if (!meta.width || !meta.height || meta.pages > 1 || meta.width * meta.height > maxPixels) return null;
  const [w, h] = swapsAxes(meta.orientation) ? [meta.height, meta.width] : [meta.width, meta.height];
  const target = pre.resizeMode === 'squash' ? pre.size : pre.resize;
  if (Math.min(w, h) < 2 * target) return null;
  const plan = resizePlan(pre, w, h);
  const { data, info } = await sharp(bytes, { failOn: 'warning', autoOrient: true, limitInputPixels: maxPixels })
    .resize({
      width: plan.resizedWidth,
      height: plan.resizedHeight,
      fit: 'fill',
      kernel: KERNEL[pre.interpolation],
      fastShrinkOnLoad: false,
    })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== plan.resizedWidth || info.height !== plan.resizedHeight) return null;
  return { data, width: info.width, height: info.height, channels: info.channels as 3 };
}

/**
 * Size, pages and EXIF orientation: from our header parser for a JPEG whose orientation it read for certain (one
 * page), otherwise from libvips (whose header read costs about 0.2 ms).
 */
async function sizeOf(
  bytes: Uint8Array,
): Promise<{ width?: number; height?: number; pages: number; orientation?: number }> {
  const header = readHeader(bytes);
  if (header?.format === 'jpeg' && header.orientation !== undefined) return { ...header, pages: 1 };
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  return { width: meta.width, height: meta.height, pages: meta.pages ?? 1, orientation: meta.orientation };
}
