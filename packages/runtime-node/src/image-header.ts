/**
 * Image size from the first bytes of a JPEG, PNG, WebP or GIF file, without a decoder: enough to refuse an
 * oversized image by name before any pixel is decoded. libvips' own header read (`sharp().metadata()`) costs about
 * 0.2 ms per image and a trip through the thread pool; this costs microseconds. Other formats (AVIF, TIFF, HEIF, ...)
 * are left to libvips.
 */

export type HeaderFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export interface ImageHeader {
  readonly format: HeaderFormat;
  /** Stored width and height, before any EXIF rotation; for GIF and animated WebP, one frame (the canvas). */
  readonly width: number;
  readonly height: number;
  /**
   * JPEG only: the EXIF orientation (1-8; 1 without EXIF) libvips will apply. Undefined where this parser cannot be
   * sure (other formats, several EXIF blocks, an EXIF block it cannot read): ask libvips.
   */
  readonly orientation?: number;
}

/** A header this parser recognised by its magic bytes but found truncated or malformed. */
export class HeaderError extends Error {
  override name = 'HeaderError';
}

/**
 * The header of `bytes`, or null when they are not a JPEG, PNG, WebP or GIF (or one this parser does not size, such
 * as a JPEG whose height comes after the first scan): libvips decides. A recognised format whose header is
 * truncated or malformed throws `HeaderError`.
 */
export function readHeader(bytes: Uint8Array): ImageHeader | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return jpeg(bytes);
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return png(bytes);
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return webp(bytes);
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return gif(bytes);
  return null;
}

const startsWith = (b: Uint8Array, magic: number[]) => b.length >= magic.length && magic.every((m, i) => b[i] === m);
const ascii = (b: Uint8Array, at: number, n: number) =>
  b.length < at + n ? '' : String.fromCharCode(...b.subarray(at, at + n));
const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u24le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 65536 + u16be(b, at + 2);

function need(bytes: Uint8Array, end: number, what: string): void {
  if (bytes.length < end) throw new HeaderError(`truncated ${what} (${bytes.length} bytes, the header needs ${end})`);
}

/** Start-of-frame markers: baseline, extended, progressive, lossless, arithmetic (not DHT C4, JPG C8, DAC CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Walks the markers up to the first scan (SOS): the frame header (SOFn) gives the size; APP1 "Exif" blocks give the
 * orientation (libvips reads every marker before the scan, so an EXIF block after SOF counts too).
 */
function jpeg(bytes: Uint8Array): ImageHeader | null {
  let size: { width: number; height: number } | undefined;
  const orientations: (number | undefined)[] = [];
  let at = 2;
  let endMarker: number | undefined; // EOI or SOS, where the header is over
  while (at < bytes.length) {
    // Like libjpeg, skip anything up to the next 0xff (libvips then rejects such a file as corrupt, by name).
    while (at < bytes.length && bytes[at] !== 0xff) at++;
    while (bytes[at] === 0xff) at++; // fill bytes
    if (at >= bytes.length) break;
    const marker = bytes[at++]!;
    if (marker === 0xd9 || marker === 0xda) {
      endMarker = marker;
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // markers without a length
    if (at + 2 > bytes.length) break;
    const length = u16be(bytes, at);
    if (length < 2)
      throw new HeaderError(`malformed JPEG: marker 0xff${hex(marker)} at byte ${at - 2} declares length ${length}`);
    const body = at + 2;
    if (isSof(marker)) {
      if (body + 5 > bytes.length) break;
      if (size) throw new HeaderError(`malformed JPEG: a second frame header (0xff${hex(marker)}) at byte ${at - 2}`);
      size = { height: u16be(bytes, body + 1), width: u16be(bytes, body + 3) };
    } else if (marker === 0xe1 && ascii(bytes, body, 6) === 'Exif\0\0') {
      orientations.push(exifOrientation(bytes.subarray(body + 6, Math.min(at + length, bytes.length))));
    }
    at += length;
  }
  if (!size)
    throw new HeaderError(
      endMarker === undefined
        ? `truncated JPEG: the data (${bytes.length} bytes) ends before its frame header (SOF marker)`
        : `malformed JPEG: no frame header (SOF marker) before its ${endMarker === 0xda ? 'first scan' : 'end'} at byte ${at - 2}`,
    );
  // A height of 0 is defined later by a DNL marker after the first scan; libjpeg refuses those anyway.
  if (size.width === 0 || size.height === 0) return null;
  const orientation = orientations.length === 0 ? 1 : orientations.length === 1 ? orientations[0] : undefined;
  return { format: 'jpeg', ...size, ...(orientation !== undefined && { orientation }) };
}

/** The Orientation tag (0x0112) of IFD0 of an EXIF (TIFF) block; undefined where the block cannot be read. */
function exifOrientation(tiff: Uint8Array): number | undefined {
  if (tiff.length < 8) return undefined;
  const order = ascii(tiff, 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const u16 = (at: number) => (order === 'II' ? u16le(tiff, at) : u16be(tiff, at));
  const u32 = (at: number) => (order === 'II' ? u16le(tiff, at) + u16le(tiff, at + 2) * 65536 : u32be(tiff, at));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) !== 0x0112) continue;
    const value = u16(entry + 8);
    // A SHORT, 1-8; anything else libexif and libvips may read their own way.
    return u16(entry + 2) === 3 && value >= 1 && value <= 8 ? value : undefined;
  }
  return 1;
}

/** PNG: the IHDR chunk must come first (width and height, big-endian, at bytes 16-23). */
function png(bytes: Uint8Array): ImageHeader {
  need(bytes, 24, 'PNG header');
  if (ascii(bytes, 12, 4) !== 'IHDR')
    throw new HeaderError(`malformed PNG: the first chunk is '${ascii(bytes, 12, 4)}', expected 'IHDR'`);
  return { format: 'png', width: u32be(bytes, 16), height: u32be(bytes, 20) };
}

/** WebP: lossy (VP8), lossless (VP8L) or extended (VP8X, whose canvas is the size of every frame). */
function webp(bytes: Uint8Array): ImageHeader | null {
  need(bytes, 30, 'WebP header');
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8X') return { format: 'webp', width: u24le(bytes, 24) + 1, height: u24le(bytes, 27) + 1 };
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f)
      throw new HeaderError(`malformed WebP: lossless signature 0x${hex(bytes[20]!)}, expected 0x2f`);
    const bits = u16le(bytes, 21) + u16le(bytes, 23) * 65536;
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') {
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a)
      throw new HeaderError('malformed WebP: the lossy frame has no start code (9d 01 2a)');
    return { format: 'webp', width: u16le(bytes, 26) & 0x3fff, height: u16le(bytes, 28) & 0x3fff };
  }
  return null;
}

/** GIF: the logical screen, little-endian at bytes 6-9, is the size of every frame libvips decodes. */
function gif(bytes: Uint8Array): ImageHeader {
  need(bytes, 10, 'GIF header');
  return { format: 'gif', width: u16le(bytes, 6), height: u16le(bytes, 8) };
}

const hex = (b: number) => b.toString(16).padStart(2, '0');
