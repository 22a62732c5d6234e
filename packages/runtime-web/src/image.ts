import { type RgbImage, checkRgbImage } from '@mobilenet/core';

/** What the browser runtime takes as an image: DOM images, bitmaps, pixels, canvases, files, or decoded RGB(A). */
export type WebImage =
  | HTMLImageElement
  | ImageBitmap
  | ImageData
  | HTMLCanvasElement
  | OffscreenCanvas
  | Blob
  | (RgbImage & { readonly name?: string });

/** Larger images are first drawn down to this size on their long side, so a huge photo cannot exhaust memory. */
export const MAX_DECODE_SIDE = 4096;

export function webImageName(img: WebImage, index: number): string {
  if (typeof File !== 'undefined' && img instanceof File) return img.name;
  if (typeof HTMLImageElement !== 'undefined' && img instanceof HTMLImageElement)
    return img.alt || img.src.split('/').pop() || `image ${index}`;
  return 'name' in img && typeof img.name === 'string' ? img.name : `image ${index}`;
}

const isRgb = (img: WebImage): img is RgbImage => 'data' in img && 'channels' in img;

function draw(source: CanvasImageSource, width: number, height: number, name: string): RgbImage {
  if (!(width > 0 && height > 0))
    throw new Error(`${name}: an image with no pixels (${width}x${height}); is it loaded?`);
  const k = Math.min(1, MAX_DECODE_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error(`${name}: no 2D canvas context to read pixels with`);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, w, h);
  return { data: ctx.getImageData(0, 0, w, h).data, width: w, height: h, channels: 4 };
}

/** Decoded RGBA pixels of any supported input. A file that is not an image is an error that names it. */
export async function decodeWebImage(img: WebImage, name: string): Promise<RgbImage> {
  if (isRgb(img)) return checkRgbImage(img, name);
  if (typeof ImageData !== 'undefined' && img instanceof ImageData)
    return { data: img.data, width: img.width, height: img.height, channels: 4 };
  if (typeof OffscreenCanvas === 'undefined')
    throw new Error(
      `${name}: decoding needs OffscreenCanvas (a browser); here, pass decoded pixels { data, width, height, channels }`,
    );
  if (img instanceof Blob) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(img);
    } catch {
      throw new Error(
        `${name}: cannot decode: not an image the browser can read (${img.type || 'unknown type'}, ${img.size} bytes)`,
      );
    }
    try {
      return draw(bitmap, bitmap.width, bitmap.height, name);
    } finally {
      bitmap.close();
    }
  }
  if (typeof HTMLImageElement !== 'undefined' && img instanceof HTMLImageElement) {
    if (!img.complete) await img.decode();
    return draw(img, img.naturalWidth, img.naturalHeight, name);
  }
  const source = img as HTMLCanvasElement | OffscreenCanvas | ImageBitmap;
  return draw(source, source.width, source.height, name);
}
