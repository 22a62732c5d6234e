import { type Preprocessing, type RgbImage, resizePlan } from '@mobilenet/core';
import sharp from 'sharp';
import { type DecodeOptions, type ImageInput, DEFAULT_MAX_PIXELS, decodeImage, encodedBytes } from './image.js';
import { type Admitted, IMAGE_LIMITS, admit } from './image-policy.js';

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
  if (mode === 'exact') return decodeImage(input, name, options);
  const bytes = await encodedBytes(input, name, options);
  if (!bytes) return decodeImage(input, name, options);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  // The same checks as the exact path, before libvips sees the bytes; a refusal is final.
  const admitted = await admit(bytes, name, maxPixels);
  try {
    const fast = await shrunk(bytes, admitted, pre, maxPixels, options.decodeSeconds ?? IMAGE_LIMITS.decodeSeconds);
    if (fast) return fast;
  } catch {
    // fall through: the exact decoder reports the error
  }
  return decodeImage({ name, bytes }, name, options);
}

/**
 * The libvips path, or null when the image is under twice the resize target (no gain) or has several pages: the
 * exact decoder takes over.
 */
async function shrunk(
  bytes: Uint8Array,
  admitted: Admitted,
  pre: Preprocessing,
  maxPixels: number,
  seconds: number,
): Promise<RgbImage | null> {
  const meta = await sizeOf(bytes, admitted);
  if (!meta.width || !meta.height || meta.pages > 1) return null;
  const [w, h] = swapsAxes(meta.orientation) ? [meta.height, meta.width] : [meta.width, meta.height];
  const target = pre.resizeMode === 'squash' ? pre.size : pre.resize;
  if (Math.min(w, h) < 2 * target) return null;
  const plan = resizePlan(pre, w, h);
  const { data, info } = await sharp(bytes, { failOn: 'warning', autoOrient: true, limitInputPixels: maxPixels })
    .timeout({ seconds })
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
 * Size, pages and EXIF orientation: from the admitted header for a JPEG whose orientation it read for certain (one
 * page), otherwise from libvips (whose header read costs about 0.2 ms).
 */
async function sizeOf(
  bytes: Uint8Array,
  admitted: Admitted,
): Promise<{ width?: number; height?: number; pages: number; orientation?: number }> {
  if (admitted.format === 'jpeg' && admitted.orientation !== undefined) return { ...admitted, pages: 1 };
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  return { width: meta.width, height: meta.height, pages: meta.pages ?? 1, orientation: meta.orientation };
}
