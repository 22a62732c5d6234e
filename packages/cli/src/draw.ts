// What `detect --draw` and `segment` write: boxes with labels drawn on a copy of the image (an SVG overlay that
// sharp composites), a class mask as an indexed PNG whose pixel values are the class indices, and the mask blended
// over the image. The pixels are the ones the model saw (runtime-node's decode: EXIF orientation applied), so boxes
// and masks line up with them.
import { deflateSync } from 'node:zlib';
import type { Detection, RgbImage, SegmentMask } from '@mobilenet/core';
import sharp from 'sharp';

/**
 * PASCAL VOC's colour map (the bit-interleaving rule of its devkit): class 0 black, 1 dark red, ..., 15 (person)
 * pink. Distinct for 256 classes; beyond, colours repeat.
 */
export function vocColour(index: number): [number, number, number] {
  let c = index & 255;
  let r = 0;
  let g = 0;
  let b = 0;
  for (let bit = 7; bit >= 0; bit--) {
    r |= (c & 1) << bit;
    g |= ((c >> 1) & 1) << bit;
    b |= ((c >> 2) & 1) << bit;
    c >>= 3;
  }
  return [r, g, b];
}

const xml = (s: string) => s.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The boxes and their labels as an SVG the size of the image (line width and text scaled to it). */
export function boxesSvg(width: number, height: number, detections: readonly Detection[]): string {
  const line = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 30));
  const parts = detections.map((d) => {
    const [x1, y1, x2, y2] = d.box.map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
    const [r, g, b] = vocColour(d.labelIndex || 1);
    const colour = `rgb(${r},${g},${b})`;
    const text = `${d.label} ${(d.score * 100).toFixed(0)}%`;
    const ty = y1 - font * 1.3 >= 0 ? y1 - font * 1.3 : y1;
    const tw = Math.ceil(text.length * font * 0.62) + 8;
    return (
      `<rect x="${x1}" y="${y1}" width="${Math.max(0, x2 - x1)}" height="${Math.max(0, y2 - y1)}" fill="none" stroke="${colour}" stroke-width="${line}"/>` +
      `<rect x="${x1}" y="${ty}" width="${tw}" height="${font * 1.3}" fill="${colour}"/>` +
      `<text x="${x1 + 4}" y="${ty + font}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="white">${xml(text)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The output format from the output's extension: JPEG for .jpg/.jpeg, else PNG. */
const encode = (img: ReturnType<typeof sharp>, out: string) =>
  /\.jpe?g$/i.test(out) ? img.jpeg({ quality: 90 }).toBuffer() : img.png().toBuffer();

/** A copy of the image with the boxes drawn, encoded for `out`'s extension. */
export async function drawBoxes(image: RgbImage, detections: readonly Detection[], out: string): Promise<Buffer> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const svg = Buffer.from(boxesSvg(image.width, image.height, detections));
  return encode(sharp(image.data, { raw }).composite([{ input: svg, top: 0, left: 0 }]), out);
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  let crc = 0xffffffff;
  for (const byte of [...head.subarray(4), ...data]) crc = CRC_TABLE[(crc ^ byte) & 255]! ^ (crc >>> 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE((crc ^ 0xffffffff) >>> 0, 0);
  return Buffer.concat([head, data, tail]);
}

/**
 * The mask as a PNG whose pixel values are the class indices: indexed (8-bit, VOC's colours as its palette, what
 * the VOC dataset's own masks are) for up to 256 classes, else 16-bit grayscale.
 */
export function maskPng(mask: SegmentMask): Buffer {
  const { width, height, classes } = mask;
  const indexed = mask.labels.length <= 256;
  const bytes = indexed ? 1 : 2;
  const rows = Buffer.alloc(height * (1 + width * bytes));
  for (let y = 0; y < height; y++) {
    const at = y * (1 + width * bytes);
    for (let x = 0; x < width; x++) {
      const v = classes[y * width + x]!;
      if (indexed) rows[at + 1 + x] = v;
      else rows.writeUInt16BE(v, at + 1 + 2 * x);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = indexed ? 8 : 16;
  ihdr[9] = indexed ? 3 : 0;
  const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr)];
  if (indexed) parts.push(chunk('PLTE', Buffer.from(mask.labels.flatMap((_, i) => vocColour(i)))));
  parts.push(chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** The image with each pixel's class colour blended in at `alpha` (the background, class 0, left as it is). */
export async function overlayPng(image: RgbImage, mask: SegmentMask, alpha = 0.5): Promise<Buffer> {
  const out = Buffer.from(image.data);
  const colours = mask.labels.map((_, i) => vocColour(i));
  for (let i = 0; i < mask.classes.length; i++) {
    const c = mask.classes[i]!;
    if (c === 0) continue;
    const rgb = colours[c]!;
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round((1 - alpha) * out[i * 3 + k]! + alpha * rgb[k]!);
  }
  return sharp(out, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
}
