import { type Preprocessing, type RgbImage, resizePlan } from '@mobilenet/core';
import { type WebImage, decodeWebImage } from './image.js';

/**
 * A page's counterpart of runtime-node's shrink-on-load: a photo at least twice the resize target is scaled by the
 * browser while it decodes (`createImageBitmap` with `resizeWidth/Height`, quality 'high'), so only the resize
 * target's pixels are read back from the canvas (341x256 instead of up to 4096x4096), and `preprocess` only crops
 * and normalizes. The browser's filter is not torchvision's: 'exact' keeps decodeWebImage's full-size path.
 */
export type WebDecodeMode = 'exact' | 'resize-on-decode';

/** Width and height the image should be decoded at, or null when it is under twice the target (no gain). */
export function decodeTarget(
  pre: Preprocessing,
  width: number,
  height: number,
): { width: number; height: number } | null {
  const target = pre.resizeMode === 'squash' ? pre.size : pre.resize;
  if (Math.min(width, height) < 2 * target) return null;
  const p = resizePlan(pre, width, height);
  return { width: p.resizedWidth, height: p.resizedHeight };
}

/** Decodes a Blob (file, fetch response) for a model; other inputs, and small images, take the exact path. */
export async function decodeWebFor(
  img: WebImage,
  name: string,
  pre: Preprocessing,
  mode: WebDecodeMode,
): Promise<RgbImage> {
  if (
    mode === 'exact' ||
    typeof createImageBitmap === 'undefined' ||
    typeof OffscreenCanvas === 'undefined' ||
    !(img instanceof Blob)
  )
    return decodeWebImage(img, name);
  let full: ImageBitmap;
  try {
    // EXIF orientation is applied by default ('from-image'), as the exact path does.
    full = await createImageBitmap(img);
  } catch {
    return decodeWebImage(img, name); // names the error the same way in both modes
  }
  try {
    const size = decodeTarget(pre, full.width, full.height);
    if (!size) return decodeWebImage(full, name);
    const small = await createImageBitmap(full, {
      resizeWidth: size.width,
      resizeHeight: size.height,
      resizeQuality: 'high',
    });
    try {
      const canvas = new OffscreenCanvas(size.width, size.height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new Error(`${name}: no 2D canvas context to read pixels with`);
      ctx.drawImage(small, 0, 0);
      return {
        data: ctx.getImageData(0, 0, size.width, size.height).data,
        width: size.width,
        height: size.height,
        channels: 4,
      };
    } finally {
      small.close();
    }
  } finally {
    full.close();
  }
}
