import { readFile } from 'node:fs/promises';
import { type RgbImage, checkRgbImage } from '@mobilenet/core';
import sharp, { type Metadata } from 'sharp';
import { HeaderError, type ImageHeader, readHeader } from './image-header.js';

/**
 * An image for the Node runtime: a file path, encoded bytes (JPEG, PNG, WebP, AVIF, TIFF, GIF), encoded bytes
 * with a name for error messages, or already decoded RGB(A) pixels.
 */
export type ImageInput =
  | string
  | Uint8Array
  | { readonly name: string; readonly bytes: Uint8Array }
  | (RgbImage & { readonly name?: string });

export class ImageError extends Error {
  constructor(
    readonly image: string,
    message: string,
  ) {
    super(`${image}: ${message}`);
    this.name = 'ImageError';
  }
}

/**
 * The largest image decoded by default: 100 megapixels (300 MB as 8-bit RGB), above any camera's photo but far
 * below what a 780 KB PNG can declare (16384 x 16384 is 268 megapixels, 805 MB decoded).
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Largest width x height decoded; a bigger image is an error naming it. Default `DEFAULT_MAX_PIXELS`. */
  readonly maxPixels?: number;
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
  if (typeof input !== 'string' && !(input instanceof Uint8Array) && 'data' in input) return checkRgbImage(input, name);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImageError(
        name,
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an image' : (e as Error).message,
      );
    }
  } else bytes = input instanceof Uint8Array ? input : input.bytes;
  const pixels = await headerPixels(bytes, name, maxPixels);
  const release = await budget.acquire(pixels, maxPixels);
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels as 3 };
  } catch (e) {
    throw new ImageError(name, `cannot decode: ${decodeMessage(e)}`);
  } finally {
    release();
  }
}

/**
 * Width x height from the header alone (no pixels decoded); over `maxPixels` is an error naming the size. JPEG, PNG,
 * WebP and GIF headers are read here (microseconds); other formats by libvips (`metadata()`, about 0.2 ms).
 */
async function headerPixels(bytes: Uint8Array, name: string, maxPixels: number): Promise<number> {
  const { width, height } = readHeaderOf(bytes, name) ?? (await libvipsSize(bytes, name));
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new ImageError(
      name,
      `${width}x${height} is ${pixels} pixels, more than the ${maxPixels} allowed (raise the limit with maxPixels, or --max-pixels)`,
    );
  }
  return pixels;
}

/** `readHeader`, with its errors naming the image. */
function readHeaderOf(bytes: Uint8Array, name: string): ImageHeader | null {
  try {
    return readHeader(bytes);
  } catch (e) {
    if (e instanceof HeaderError) throw new ImageError(name, `cannot decode: ${e.message}`);
    throw e;
  }
}

async function libvipsSize(bytes: Uint8Array, name: string): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(name, `cannot decode: ${decodeMessage(e)}`);
  }
  // Only the first page of a multi-page image (GIF, TIFF) is decoded.
  return { width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0 };
}

function decodeMessage(e: unknown): string {
  // libvips reports a damaged file by its decoder's words or, depending on timing, by the failOn line, sometimes
  // followed by the decoder's own line ("error in tile 0 x 168"): one line either way.
  const lines = (e as Error).message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines[0] === 'Warning treated as error due to failOn setting') {
    return `corrupt or truncated image data${lines[1] ? ` (${lines[1]})` : ''}`;
  }
  return (lines[0] ?? 'unknown error').replace(
    /^Input (buffer|file) contains unsupported image format$/,
    'not an image (unsupported or unrecognised format)',
  );
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
