import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { HeaderError, readHeader } from './image-header.js';
import { decodeImage } from './image.js';

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url));

/** A small image with some structure (so that encoders do not special-case it), `frames` pages stacked. */
function pixels(width: number, height: number, frames = 1) {
  const data = Buffer.alloc(width * height * frames * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 5)) & 255;
  return sharp(data, { raw: { width, height: height * frames, channels: 3, pageHeight: height } });
}

/** libvips' own reading of the header: the oracle. Only the first page of a multi-page image is decoded. */
async function libvips(bytes: Uint8Array) {
  const m = await sharp(bytes, { limitInputPixels: false }).metadata();
  return { format: m.format, width: m.width, height: m.pageHeight ?? m.height, orientation: m.orientation ?? 1 };
}

/** An APP1 EXIF block holding only IFD0's Orientation, in either byte order, as a camera writes it. */
function exifApp1(orientation: number, order: 'II' | 'MM'): Buffer {
  const tiff = Buffer.alloc(26);
  const le = order === 'II';
  tiff.write(order, 0, 'latin1');
  const u16 = (v: number, at: number) => (le ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (le ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(orientation, 18); // value, left-justified in the 4-byte field
  u32(0, 22); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** A JPEG with `blocks` inserted right after its SOI marker. */
const withBlocks = (jpeg: Buffer, ...blocks: Buffer[]) =>
  Buffer.concat([jpeg.subarray(0, 2), ...blocks, jpeg.subarray(2)]);

/** Byte offset of the first marker 0xff `code` that starts a segment (walking segment lengths from the SOI). */
function markerAt(jpeg: Buffer, code: number): number {
  for (let at = 2; at < jpeg.length; at += 2 + jpeg.readUInt16BE(at + 2)) if (jpeg[at + 1] === code) return at;
  throw new Error(`no marker 0xff${code.toString(16)} in the test JPEG`);
}

async function samples(): Promise<Record<string, Buffer>> {
  return {
    'baseline 4:2:0 JPEG': await pixels(75, 41).jpeg().toBuffer(),
    'progressive JPEG': await pixels(75, 41).jpeg({ progressive: true }).toBuffer(),
    'CMYK JPEG (fixture)': fixture('cmyk.jpg'),
    'JPEG of the fixtures': fixture('scene.jpg'),
    'grayscale JPEG': await pixels(33, 70).toColourspace('b-w').jpeg().toBuffer(),
    'RGB PNG': await pixels(75, 41).png().toBuffer(),
    'gray 16-bit PNG (fixture)': fixture('gray16.png'),
    'RGBA PNG (fixture)': fixture('rgba.png'),
    'palette PNG': await pixels(19, 23).png({ palette: true }).toBuffer(),
    'lossy WebP': await pixels(75, 41).webp().toBuffer(),
    'lossless WebP': await pixels(75, 41).webp({ lossless: true }).toBuffer(),
    'WebP with alpha': await pixels(75, 41).ensureAlpha(0.5).webp().toBuffer(),
    'animated WebP, 3 frames': await pixels(31, 17, 3).webp().toBuffer(),
    GIF: await pixels(75, 41).gif().toBuffer(),
    'animated GIF, 3 frames': await pixels(31, 17, 3).gif().toBuffer(),
  };
}

describe('readHeader', () => {
  it('reads the same size (and first-page height) as libvips for JPEG, PNG, WebP and GIF', async () => {
    for (const [what, bytes] of Object.entries(await samples())) {
      const h = readHeader(bytes);
      const v = await libvips(bytes);
      expect({ what, format: h?.format, width: h?.width, height: h?.height }).toEqual({
        what,
        format: v.format,
        width: v.width,
        height: v.height,
      });
    }
  });

  it('tells a progressive JPEG by its SOF2 marker and sizes it the same', async () => {
    const bytes = await pixels(75, 41).jpeg({ progressive: true }).toBuffer();
    expect(bytes[markerAt(bytes, 0xc2) + 1]).toBe(0xc2);
    expect(readHeader(bytes)).toMatchObject({ format: 'jpeg', width: 75, height: 41, orientation: 1 });
    expect(readHeader(bytes)?.scans).toBeGreaterThan(1);
  });

  it('reads EXIF orientation 1-8 as libvips does, in both byte orders, and is unsure of two EXIF blocks', async () => {
    const plain = await pixels(30, 20).jpeg().toBuffer();
    for (let o = 1; o <= 8; o++) {
      const written = await pixels(30, 20).jpeg().withMetadata({ orientation: o }).toBuffer();
      for (const bytes of [written, withBlocks(plain, exifApp1(o, 'II')), withBlocks(plain, exifApp1(o, 'MM'))]) {
        expect((await libvips(bytes)).orientation).toBe(o);
        expect(readHeader(bytes)).toEqual({ format: 'jpeg', width: 30, height: 20, orientation: o, scans: 1 });
      }
    }
    // Which of two blocks a reader believes is its own choice: the parser says it does not know.
    const two = withBlocks(plain, exifApp1(6, 'II'), exifApp1(3, 'MM'));
    expect(readHeader(two)).toEqual({ format: 'jpeg', width: 30, height: 20, scans: 1 });
    // An EXIF block without Orientation is orientation 1; one out of range is left to libvips.
    expect(readHeader(withBlocks(plain, exifApp1(0, 'II').fill(0, 20, 22)))?.orientation).toBe(1);
    expect(readHeader(withBlocks(plain, exifApp1(9, 'MM')))?.orientation).toBeUndefined();
  });

  it('returns null for bytes that are none of its formats, so that libvips decides', async () => {
    for (const bytes of [
      Buffer.alloc(0),
      Buffer.from('This is a text file with a .jpg name'),
      fixture('not-an-image.jpg'),
      Buffer.from('BM\x36\x00\x00\x00', 'latin1'),
      Buffer.from([0xff, 0xd8]), // two bytes of a JPEG: not yet its magic (FF D8 FF)
      Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'),
    ])
      expect(readHeader(bytes)).toBeNull();
  });

  it('refuses every truncation inside a header, naming what is missing', async () => {
    const s = await samples();
    const cases: [string, Buffer, number, number][] = [
      // format, bytes, first and last length tried: from just past the magic to one byte short of the size
      ['JPEG', s['baseline 4:2:0 JPEG']!, 3, markerAt(s['baseline 4:2:0 JPEG']!, 0xc0) + 8],
      ['JPEG', s['progressive JPEG']!, 3, markerAt(s['progressive JPEG']!, 0xc2) + 8],
      ['PNG', s['RGB PNG']!, 8, 23],
      ['WebP', s['lossy WebP']!, 12, 29],
      ['WebP', s['lossless WebP']!, 12, 29],
      ['GIF', s.GIF!, 6, 9],
    ];
    for (const [format, bytes, from, to] of cases)
      for (let n = from; n <= to; n++) {
        const cut = bytes.subarray(0, n);
        expect(() => readHeader(cut), `${format} cut to ${n} bytes`).toThrow(HeaderError);
        expect(() => readHeader(cut), `${format} cut to ${n} bytes`).toThrow(new RegExp(`^truncated ${format}`));
      }
  });

  it('refuses malformed headers of a recognised format, saying what was found', async () => {
    const png = await pixels(8, 8).png().toBuffer();
    const notIhdr = Buffer.from(png);
    notIhdr.write('IEND', 12, 'latin1');
    expect(() => readHeader(notIhdr)).toThrow("malformed PNG: the first chunk is 'IEND', expected 'IHDR'");

    const jpeg = await pixels(8, 8).jpeg().toBuffer();
    const sof = markerAt(jpeg, 0xc0);
    const sos = markerAt(jpeg, 0xda);
    const scanFirst = Buffer.concat([jpeg.subarray(0, sof), jpeg.subarray(sof + 2 + jpeg.readUInt16BE(sof + 2))]);
    expect(() => readHeader(scanFirst)).toThrow(
      /^malformed JPEG: no frame header \(SOF marker\) before its first scan/,
    );
    const twoFrames = withBlocks(jpeg, jpeg.subarray(sof, sos));
    expect(() => readHeader(twoFrames)).toThrow(/^malformed JPEG: a second frame header \(0xffc0\)/);
    const zeroLength = Buffer.from(jpeg);
    zeroLength.writeUInt16BE(0, sof + 2);
    expect(() => readHeader(zeroLength)).toThrow(/^malformed JPEG: marker 0xffc0 at byte \d+ declares length 0/);

    const webp = Buffer.from(await pixels(8, 8).webp().toBuffer());
    webp[23] = 0;
    expect(() => readHeader(webp)).toThrow('malformed WebP: the lossy frame has no start code (9d 01 2a)');
  });

  it('skips stray bytes between JPEG markers as libjpeg does, and sizes the image as libvips does', async () => {
    const jpeg = await pixels(75, 41).jpeg().toBuffer();
    const sof = markerAt(jpeg, 0xc0);
    const stray = Buffer.concat([jpeg.subarray(0, sof), Buffer.from([1, 2, 3]), jpeg.subarray(sof)]);
    const v = await libvips(stray);
    expect(readHeader(stray)).toEqual({ format: 'jpeg', width: v.width, height: v.height, orientation: 1, scans: 1 });
  });

  it('leaves a JPEG whose height comes after the scan (DNL, height 0) to libvips', async () => {
    const jpeg = Buffer.from(await pixels(8, 8).jpeg().toBuffer());
    jpeg.writeUInt16BE(0, markerAt(jpeg, 0xc0) + 5);
    expect(readHeader(jpeg)).toBeNull();
  });
});

describe('decodeImage with the header parser', () => {
  /** `bytes` with its declared size replaced, as an attacker's file would: the pixels never match. */
  async function huge(): Promise<[string, Buffer, string][]> {
    const png = Buffer.from(await pixels(8, 8).png().toBuffer());
    png.writeUInt32BE(50_000, 16);
    png.writeUInt32BE(50_000, 20);
    const jpeg = Buffer.from(await pixels(8, 8).jpeg({ progressive: true }).toBuffer());
    const sof = markerAt(jpeg, 0xc2);
    jpeg.writeUInt16BE(65_000, sof + 5);
    jpeg.writeUInt16BE(60_000, sof + 7);
    const cmyk = Buffer.from(fixture('cmyk.jpg'));
    const cmykSof = markerAt(cmyk, cmyk.includes(Buffer.from([0xff, 0xc2])) ? 0xc2 : 0xc0);
    cmyk.writeUInt16BE(20_000, cmykSof + 5);
    cmyk.writeUInt16BE(20_000, cmykSof + 7);
    const webp = Buffer.from(await pixels(8, 8).ensureAlpha(0.5).webp().toBuffer());
    webp.writeUIntLE(16_383, 24, 3);
    webp.writeUIntLE(16_383, 27, 3);
    const gif = Buffer.from(await pixels(8, 8).gif().toBuffer());
    gif.writeUInt16LE(65_535, 6);
    gif.writeUInt16LE(65_535, 8);
    return [
      ['huge.png', png, '50000x50000 is 2500000000'],
      ['huge.jpg', jpeg, '60000x65000 is 3900000000'],
      ['huge-cmyk.jpg', cmyk, '20000x20000 is 400000000'],
      ['huge.webp', webp, '16384x16384 is 268435456'],
      ['huge.gif', gif, '65535x65535 is 4294836225'],
    ];
  }

  it('refuses a huge declared size by name before decoding', async () => {
    for (const [name, bytes, size] of await huge())
      await expect(decodeImage({ name, bytes }, name)).rejects.toThrow(
        `${name}: ${size} pixels, more than the 100000000 allowed (raise the limit with maxPixels, or --max-pixels)`,
      );
  });

  it('names the image whose header is truncated or malformed', async () => {
    const jpeg = await pixels(8, 8).jpeg().toBuffer();
    await expect(decodeImage({ name: 'cut.jpg', bytes: jpeg.subarray(0, 40) }, 'cut.jpg')).rejects.toThrow(
      'cut.jpg: cannot decode: truncated JPEG: the data (40 bytes) ends before its frame header (SOF marker)',
    );
    const png = await pixels(8, 8).png().toBuffer();
    await expect(decodeImage({ name: 'cut.png', bytes: png.subarray(0, 20) }, 'cut.png')).rejects.toThrow(
      'cut.png: cannot decode: truncated PNG header (20 bytes, the header needs 24)',
    );
  });

  it('still applies EXIF orientation, and still refuses other formats over the limit through libvips', async () => {
    const o6 = await pixels(30, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const d = await decodeImage({ name: 'o6.jpg', bytes: o6 }, 'o6.jpg');
    expect([d.width, d.height, d.channels]).toEqual([20, 30, 3]);
    const tiff = await pixels(40, 30).tiff().toBuffer();
    await expect(decodeImage({ name: 'big.tiff', bytes: tiff }, 'big.tiff', { maxPixels: 1199 })).rejects.toThrow(
      'big.tiff: 40x30 is 1200 pixels, more than the 1199 allowed',
    );
  });
});
