import { readFile } from 'node:fs/promises';
import { type RgbImage, checkRgbImage } from '@mobilenet/core';
import sharp from 'sharp';

/**
 * An image for the Node runtime: a file path, encoded bytes (JPEG, PNG, WebP, AVIF, TIFF, GIF), encoded bytes
 * with a name for error messages, or already decoded RGB(A) pixels.
 */
export type ImageInput = string | Uint8Array | { readonly name: string; readonly bytes: Uint8Array } | (RgbImage & { readonly name?: string });

export class ImageError extends Error {
  constructor(readonly image: string, message: string) {
    super(`${image}: ${message}`);
    this.name = 'ImageError';
  }
}

export function imageName(input: ImageInput, index: number): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return `image ${index}`;
  return input.name ?? `image ${index}`;
}

/**
 * Decodes to 8-bit sRGB pixels with sharp (libvips): EXIF orientation applied; grayscale, CMYK, 16-bit and palette
 * images converted; alpha dropped, as PIL's convert('RGB') does. A truncated or unreadable file is an error.
 */
export async function decodeImage(input: ImageInput, name: string): Promise<RgbImage> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array) && 'data' in input) return checkRgbImage(input, name);
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImageError(name, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an image' : (e as Error).message);
    }
  } else bytes = input instanceof Uint8Array ? input : input.bytes;
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning', limitInputPixels: 16384 * 16384 })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels as 3 };
  } catch (e) {
    const msg = (e as Error).message
      .replace(/^Input (buffer|file) contains unsupported image format$/, 'not an image (unsupported or unrecognised format)')
      // libvips reports a damaged file either by its decoder's words or, depending on timing, by this one.
      .replace(/^Warning treated as error due to failOn setting$/, 'corrupt or truncated image data');
    throw new ImageError(name, `cannot decode: ${msg}`);
  }
}
