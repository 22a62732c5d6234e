import { type RgbImage, checkRgbImage } from '@mobilenet/core';
import sharp from 'sharp';
import { FILE_CAPS, FileError, readRegular } from './files.js';
import { IMAGE_LIMITS, ImageError, admit, decodeMessage } from './image-policy.js';

export { ImageError } from './image-policy.js';

/**
 * An image for the Node runtime: a file path, encoded bytes (JPEG, PNG, WebP, AVIF, TIFF, GIF), encoded bytes
 * with a name for error messages, a file path with a name for messages (a path of bytes for a file name that is not
 * UTF-8), or already decoded RGB(A) pixels.
 */
export type ImageInput =
  | string
  | Uint8Array
  | { readonly name: string; readonly bytes: Uint8Array }
  | { readonly name: string; readonly path: string | Buffer }
  | (RgbImage & { readonly name?: string });

/**
 * The encoded bytes of an image input, read through the guarded reader when it is a file; null for decoded pixels.
 */
export async function encodedBytes(
  input: ImageInput,
  name: string,
  options: DecodeOptions,
): Promise<Uint8Array | null> {
  if (typeof input === 'string') return readImageFile(input, name, options);
  if (input instanceof Uint8Array) return input;
  if ('bytes' in input) return input.bytes;
  if ('path' in input) return readImageFile(input.path, name, options);
  return null;
}

/**
 * The largest image decoded by default: 100 megapixels (300 MB as 8-bit RGB), above any camera's photo but far
 * below what a 780 KB PNG can declare (16384 x 16384 is 268 megapixels, 805 MB decoded).
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Largest width x height decoded; a bigger image is an error naming it. Default `DEFAULT_MAX_PIXELS`. */
  readonly maxPixels?: number;
  /** Largest image file read, in bytes. Default `imageByteCap(maxPixels)`. */
  readonly maxBytes?: number;
  /** Seconds one decode may take before libvips is stopped. Default `IMAGE_LIMITS.decodeSeconds` (20). */
  readonly decodeSeconds?: number;
}

/**
 * The largest image file read for a pixel cap: 3 bytes per pixel (an uncompressed 8-bit RGB TIFF of that many
 * pixels), at least 64 MiB, at most 2 GiB.
 */
export const imageByteCap = (maxPixels: number): number =>
  Math.min(2 ** 31 - 1, Math.max(FILE_CAPS.image, 3 * maxPixels));

/**
 * An image file's bytes through the one guarded reader: a regular file within the byte cap (a FIFO, a device, a
 * link to /dev/zero or a folder is refused by kind without reading it). Errors name the image.
 */
export async function readImageFile(path: string | Buffer, name: string, options: DecodeOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? imageByteCap(options.maxPixels ?? DEFAULT_MAX_PIXELS);
  try {
    return await readRegular(path, { what: 'an image file', maxBytes });
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    throw new ImageError(name, e.detail);
  }
}

export function imageName(input: ImageInput, index: number): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return `image ${index}`;
  return input.name ?? `image ${index}`;
}

/**
 * Decodes to 8-bit sRGB pixels with sharp (libvips): EXIF orientation applied; grayscale, CMYK, 16-bit and palette
 * images converted; alpha dropped, as PIL's convert('RGB') does. A truncated or unreadable file is an error, and so
 * is an image over `maxPixels`, found from its header before any pixel is decoded. Decodes run a few at a time
 * (see `PixelBudget`), so a batch of huge images never holds all their pixels at once.
 */
export async function decodeImage(input: ImageInput, name: string, options: DecodeOptions = {}): Promise<RgbImage> {
  const bytes = await encodedBytes(input, name, options);
  if (!bytes) return checkRgbImage(input as RgbImage, name);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { pixels } = await admit(bytes, name, maxPixels);
  const release = await budget.acquire(pixels, maxPixels);
  const seconds = options.decodeSeconds ?? IMAGE_LIMITS.decodeSeconds;
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels })
      .timeout({ seconds })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels as 3 };
  } catch (e) {
    throw new ImageError(name, `cannot decode: ${decodeMessage(e, seconds)}`);
  } finally {
    release();
  }
}

/**
 * Admits decodes while the pixels in flight stay within a budget; one image alone is always admitted (it is
 * already within maxPixels). Small images decode in parallel, huge ones one after another. Shared by every session
 * in the process, because memory is.
 */
class PixelBudget {
  private inFlight = 0;
  private readonly waiting: { pixels: number; limit: number; go: () => void }[] = [];

  acquire(pixels: number, limit: number): Promise<() => void> {
    return new Promise((resolve) => {
      const go = () => {
        this.inFlight += pixels;
        resolve(() => this.release(pixels));
      };
      if (this.fits(pixels, limit) && this.waiting.length === 0) go();
      else this.waiting.push({ pixels, limit, go });
    });
  }

  private fits(pixels: number, limit: number): boolean {
    return this.inFlight === 0 || this.inFlight + pixels <= limit;
  }

  private release(pixels: number): void {
    this.inFlight -= pixels;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.pixels, this.waiting[0]!.limit))
      this.waiting.shift()!.go();
  }
}

const budget = new PixelBudget();
