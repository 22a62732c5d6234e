import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, decodeImage } from './image.js';

/** A PNG of width x height: small on disk whatever its size (one colour). */
const png = (width: number, height: number) =>
  sharp({ limitInputPixels: false, create: { width, height, channels: 3, background: { r: 10, g: 20, b: 30 } } })
    .png()
    .toBuffer();

describe('decodeImage limits', () => {
  it('an image over maxPixels is refused from its header, naming the image, its size and the limit', async () => {
    const bytes = await png(1000, 600);
    await expect(decodeImage({ name: 'wide.png', bytes }, 'wide.png', { maxPixels: 599_999 })).rejects.toThrow(
      'wide.png: 1000x600 is 600000 pixels, more than the 599999 allowed (raise the limit with maxPixels, or --max-pixels)',
    );
    const ok = await decodeImage({ name: 'wide.png', bytes }, 'wide.png', { maxPixels: 600_000 });
    expect([ok.width, ok.height, ok.channels, ok.data[0], ok.data[1], ok.data[2]]).toEqual([1000, 600, 3, 10, 20, 30]);
    expect(DEFAULT_MAX_PIXELS).toBe(100_000_000);
  });

  it('many decodes at once over a small budget all finish, in order of their results', async () => {
    const images = await Promise.all([300, 200, 100, 250].map((s) => png(s, s)));
    const decoded = await Promise.all(
      images.map((bytes, i) => decodeImage(bytes, `image ${i}`, { maxPixels: 300 * 300 })),
    );
    expect(decoded.map((d) => d.width)).toEqual([300, 200, 100, 250]);
  });
});
