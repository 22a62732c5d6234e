import { quote } from '@mobilenet/core';

/**
 * Image size from the first bytes of a JPEG, PNG, WebP, GIF or TIFF file, without a decoder: enough to refuse an
 * oversized image by name before any pixel is decoded. libvips' own header read (`sharp().metadata()`) costs about
 * 0.2 ms per image and a trip through the thread pool; this costs microseconds. It also reads what costs decode time
 * without costing bytes: a JPEG's scans, a TIFF's compression and pages. AVIF/HEIF headers are left to libvips.
 */

export type HeaderFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff';

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
  /** JPEG only: how many scans (SOS markers) the file holds; libjpeg visits every block of the frame in each. */
  readonly scans?: number;
  /** TIFF only: the compression of the first page (1 none, 5 LZW, 7 JPEG, 8 Deflate, ...). */
  readonly compression?: number;
  /** TIFF only: pages in the file, counted up to `MAX_COUNTED_PAGES` + 1 (libtiff walks them all on open). */
  readonly pages?: number;
}

/** Pages of a TIFF counted before giving up: past this the file is refused anyway. */
export const MAX_COUNTED_PAGES = 1000;

/** A header this parser recognised by its magic bytes but found truncated or malformed. */
export class HeaderError extends Error {
  override name = 'HeaderError';
}

/**
 * The header of `bytes`, or null when they are not a JPEG, PNG, WebP, GIF or TIFF (or one this parser does not
 * size, such as a JPEG whose height comes after the first scan): libvips decides. A recognised format whose header
 * is truncated or malformed throws `HeaderError`.
 */
export function readHeader(bytes: Uint8Array): ImageHeader | null {
  switch (sniff(bytes)) {
    case 'jpeg':
      return jpeg(bytes);
    case 'png':
      return png(bytes);
    case 'webp':
      return webp(bytes);
    case 'gif':
      return gif(bytes);
    case 'tiff':
      return tiff(bytes);
    default:
      return null;
  }
}

/** The formats recognised by their magic bytes: those decoded, and those named when refused. */
export type Sniffed = HeaderFormat | 'heif' | 'bigtiff' | 'svg' | 'pdf' | 'gzip' | 'bmp' | 'pnm' | 'jxl' | 'other';

/** ISO base media (HEIF, AVIF) brands that libheif reads as still images. */
const HEIF_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/**
 * What `bytes` are by their first bytes, the way libvips' loaders tell them apart (each checks its magic at byte
 * 0). Text that may be SVG is recognised as librsvg would take it: after a byte-order mark, spaces, an XML
 * declaration or comments.
 */
export function sniff(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  const tiffMagic = ascii(bytes, 0, 4);
  if (tiffMagic === 'II*\0' || tiffMagic === 'MM\0*') return 'tiff';
  if (tiffMagic === 'II+\0' || tiffMagic === 'MM\0+') return 'bigtiff';
  if (ascii(bytes, 4, 4) === 'ftyp' && HEIF_BRANDS.has(ascii(bytes, 8, 4))) return 'heif';
  if (ascii(bytes, 0, 5) === '%PDF-') return 'pdf';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'gzip';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (/^P[1-7]\s/.test(ascii(bytes, 0, 3))) return 'pnm';
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 8) === 'JXL \r\n\x87\n') return 'jxl';
  if (/^(\ufeff|\xef\xbb\xbf)?\s*</.test(ascii(bytes, 0, Math.min(bytes.length, 64)))) return 'svg';
  return 'other';
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
  const scans = endMarker === 0xda ? countScans(bytes, at) : 0;
  return { format: 'jpeg', ...size, ...(orientation !== undefined && { orientation }), scans };
}

/**
 * The scans of a JPEG, from its first SOS (`at` is that marker's length field) to EOI or the end of the bytes:
 * each segment is skipped by its length, the entropy-coded data after a scan header up to the next marker (a 0xff
 * not followed by 0x00, a restart marker or more fill). A file of thousands of scans is a few kilobytes, and
 * libjpeg visits every block of the frame in each of them: the count is known before any decoding.
 */
function countScans(bytes: Uint8Array, at: number): number {
  let scans = 1;
  while (at + 2 <= bytes.length) {
    at += u16be(bytes, at);
    for (;;) {
      const ff = bytes.indexOf(0xff, at);
      if (ff < 0) return scans;
      let m = ff + 1;
      while (bytes[m] === 0xff) m++;
      if (m >= bytes.length) return scans;
      const code = bytes[m]!;
      at = m + 1;
      if (code === 0x00 || code === 0x01 || (code >= 0xd0 && code <= 0xd7)) continue; // data, not a marker
      if (code === 0xd9) return scans;
      if (code === 0xda) scans++;
      break;
    }
  }
  return scans;
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

/**
 * TIFF (classic, not BigTIFF): the first page's ImageWidth, ImageLength and Compression, and the number of pages
 * (libtiff walks the chain of page directories when it opens a file, so a long chain costs time before any pixel).
 */
function tiff(bytes: Uint8Array): ImageHeader {
  need(bytes, 8, 'TIFF header');
  const le = bytes[0] === 0x49;
  const u16 = (at: number) => (le ? u16le(bytes, at) : u16be(bytes, at));
  const u32 = (at: number) => (le ? u16le(bytes, at) + u16le(bytes, at + 2) * 65536 : u32be(bytes, at));
  const directory = (at: number) => {
    need(bytes, at + 2, 'TIFF page directory');
    const count = u16(at);
    need(bytes, at + 2 + 12 * count + 4, 'TIFF page directory');
    return { count, next: u32(at + 2 + 12 * count) };
  };
  const first = u32(4);
  const { count } = directory(first);
  const tags = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const entry = first + 2 + 12 * i;
    const [tag, type, n] = [u16(entry), u16(entry + 2), u32(entry + 4)];
    // One SHORT or LONG value, held in the entry itself: all that width, height and compression may be.
    if (n === 1 && (type === 3 || type === 4)) tags.set(tag, type === 3 ? u16(entry + 8) : u32(entry + 8));
  }
  const width = tags.get(256);
  const height = tags.get(257);
  if (width === undefined || height === undefined)
    throw new HeaderError('malformed TIFF: its first page has no ImageWidth or ImageLength');
  const seen = new Set([first]);
  let pages = 1;
  for (let next = directory(first).next; next !== 0 && pages <= MAX_COUNTED_PAGES; pages++) {
    if (seen.has(next)) throw new HeaderError(`malformed TIFF: its page directories loop back to byte ${next}`);
    seen.add(next);
    next = directory(next).next;
  }
  return { format: 'tiff', width, height, compression: tags.get(259) ?? 1, pages };
}

/** PNG: the IHDR chunk must come first (width and height, big-endian, at bytes 16-23). */
function png(bytes: Uint8Array): ImageHeader {
  need(bytes, 24, 'PNG header');
  if (ascii(bytes, 12, 4) !== 'IHDR')
    throw new HeaderError(`malformed PNG: the first chunk is ${quote(ascii(bytes, 12, 4))}, expected 'IHDR'`);
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
