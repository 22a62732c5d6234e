import { escapeControls } from '@mobilenet/core';
import sharp, { type Metadata } from 'sharp';
import { HeaderError, type ImageHeader, MAX_COUNTED_PAGES, type Sniffed, readHeader, sniff } from './image-header.js';

/**
 * Which images reach a decoder, and within what. libvips can load many formats (SVG through librsvg, its own .v
 * files, raw PPM, ...); only those below are passed to it, told apart by their magic bytes before libvips sees them.
 *
 * SVG is refused, not rasterised under a cap: librsvg decodes the images an SVG embeds (data: URLs) and runs its
 * filters (feTurbulence over 10000x10000) outside libvips' pixel limit, so no cap on the SVG's own size holds. A
 * user with SVGs rasterises them first with a tool they trust.
 */
export const DECODED_FORMATS: Readonly<Partial<Record<Sniffed, string>>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  heif: 'AVIF/HEIF',
};

const REFUSED: Readonly<Partial<Record<Sniffed, string>>> = {
  svg: 'SVG or other XML/HTML text',
  bigtiff: 'BigTIFF',
  pdf: 'PDF',
  gzip: 'gzip data (an .svgz?)',
  bmp: 'BMP',
  pnm: 'PNM/PPM',
  jxl: 'JPEG XL',
};

/** TIFF compressions decoded: the lossless ones. JPEG inside TIFF (6, 7) would reopen the scan-count question. */
export const TIFF_COMPRESSIONS: Readonly<Record<number, string>> = {
  1: 'none',
  5: 'LZW',
  8: 'Deflate',
  32946: 'Deflate',
  32773: 'PackBits',
};

export const IMAGE_LIMITS = {
  /**
   * Longest side, in pixels: JPEG's and GIF's own maximum. libvips' cost per image row is about 2 us, so a PNG or
   * TIFF of 1 x 10,000,000 (10 megapixels, 40 KB on disk) took 20-23 s while it is under the pixel cap.
   */
  maxSide: 65535,
  /** Most scans in a JPEG: a standard progressive colour JPEG has 10, mozjpeg's rarely 20. */
  maxJpegScans: 100,
  /**
   * Most scans x pixels of a JPEG: libjpeg visits every block in every scan, measured at 0.8 ms per scan and
   * megapixel here (2000x2000 with 883 scans: 2.9 s). 2e9 is 20 scans at 100 megapixels, about 1.7 s.
   */
  maxJpegScanPixels: 2e9,
  /** Most pages of a TIFF: libtiff reads every page's directory when it opens a file. */
  maxTiffPages: MAX_COUNTED_PAGES,
  /** Seconds one decode may take before libvips is stopped: a backstop for what the checks above do not foresee. */
  decodeSeconds: 20,
} as const;

/** An image that cannot be decoded: its name (control characters escaped, so the message is one line) leads. */
export class ImageError extends Error {
  constructor(
    readonly image: string,
    /** The problem without the image's name. */
    readonly reason: string,
  ) {
    super(`${escapeControls(image)}: ${reason}`);
    this.name = 'ImageError';
  }
}

/** What `admit` found: the format and the size to decode. */
export interface Admitted {
  readonly format: Sniffed;
  readonly width: number;
  readonly height: number;
  readonly pixels: number;
  /** A JPEG's EXIF orientation when the header parser is sure of it. */
  readonly orientation?: number;
}

/**
 * Checks an image before any pixel is decoded: a format on the list, its header well formed, its size within
 * `maxPixels` and `maxSide`, a JPEG's scans and a TIFF's compression and pages within their limits. Each refusal
 * is an `ImageError` naming the image, the format and the limit.
 */
export async function admit(bytes: Uint8Array, name: string, maxPixels: number): Promise<Admitted> {
  const format = sniff(bytes);
  if (!DECODED_FORMATS[format]) throw new ImageError(name, `cannot decode: ${refusedFormat(format)}`);
  const header = format === 'heif' ? null : readHeaderOf(bytes, name);
  const { width, height } = header ?? (await libvipsSize(bytes, name, format));
  const pixels = width * height;
  const fail = (why: string): never => {
    throw new ImageError(name, `${DECODED_FORMATS[format]} ${width}x${height}: ${why}`);
  };
  if (width < 1 || height < 1) fail('an empty image');
  if (pixels > maxPixels)
    throw new ImageError(
      name,
      `${width}x${height} is ${pixels} pixels, more than the ${maxPixels} allowed (raise the limit with maxPixels, or --max-pixels)`,
    );
  if (Math.max(width, height) > IMAGE_LIMITS.maxSide)
    fail(`a side longer than the ${IMAGE_LIMITS.maxSide} pixels allowed (decoding row by row would take minutes)`);
  if (header) checkStructure(header, pixels, fail);
  return {
    format,
    width,
    height,
    pixels,
    ...(header?.orientation !== undefined && { orientation: header.orientation }),
  };
}

function refusedFormat(format: Sniffed): string {
  const decoded = Object.values(DECODED_FORMATS).join(', ');
  return format === 'other'
    ? `not an image (unsupported or unrecognised format; decoded: ${decoded})`
    : `${REFUSED[format]} is not decoded (decoded: ${decoded})`;
}

/** The costs a header shows beyond its size: JPEG scans, TIFF compression and pages. */
function checkStructure(h: ImageHeader, pixels: number, fail: (why: string) => never): void {
  const scans = h.scans ?? 0;
  if (scans > IMAGE_LIMITS.maxJpegScans)
    fail(`${scans} scans, more than the ${IMAGE_LIMITS.maxJpegScans} allowed (each scan is a pass over the image)`);
  if (scans * pixels > IMAGE_LIMITS.maxJpegScanPixels)
    fail(
      `${scans} scans over ${pixels} pixels, more than the ${IMAGE_LIMITS.maxJpegScanPixels} scans x pixels allowed (each scan is a pass over the image)`,
    );
  if (h.compression !== undefined && !TIFF_COMPRESSIONS[h.compression])
    fail(
      `compression ${h.compression}, not one of those decoded (${Object.entries(TIFF_COMPRESSIONS)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    );
  if ((h.pages ?? 1) > IMAGE_LIMITS.maxTiffPages)
    fail(`more than ${IMAGE_LIMITS.maxTiffPages} pages (libtiff reads every page's directory on open)`);
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

/**
 * libvips' header read, for what our parser does not size (AVIF/HEIF, a JPEG whose height follows its first scan);
 * only the first page of a multi-page image counts. libvips must have read the format the magic bytes said.
 */
async function libvipsSize(
  bytes: Uint8Array,
  name: string,
  format: Sniffed,
): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(name, `cannot decode: ${decodeMessage(e)}`);
  }
  if (meta.format !== format)
    throw new ImageError(
      name,
      `cannot decode: its bytes begin as ${DECODED_FORMATS[format]}, libvips read ${meta.format}`,
    );
  return { width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0 };
}

/** A libvips error as one line. */
export function decodeMessage(e: unknown, seconds: number = IMAGE_LIMITS.decodeSeconds): string {
  // libvips reports a damaged file by its decoder's words or, depending on timing, by the failOn line, sometimes
  // followed by the decoder's own line ("error in tile 0 x 168"): one line either way.
  const lines = (e as Error).message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines[0] === 'Warning treated as error due to failOn setting') {
    return `corrupt or truncated image data${lines[1] ? ` (${lines[1]})` : ''}`;
  }
  if (/^timeout: \d+% complete$/.test(lines[0] ?? ''))
    return `decoding took more than the ${seconds} s allowed (stopped at ${lines[0]!.replace('timeout: ', '')})`;
  return (lines[0] ?? 'unknown error').replace(
    /^Input (buffer|file) contains unsupported image format$/,
    'not an image (unsupported or unrecognised format)',
  );
}
