import { describe, expect, it } from 'vitest';
import { decodeTarget, decodeWebFor } from './decode-fast.js';

const pre = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  resizeMode: 'crop',
  resize: 256,
  size: 224,
  interpolation: 'bilinear',
} as const;

describe('resize-on-decode (browser)', () => {
  it('decodes at the resize target only for images at least twice it', () => {
    expect(decodeTarget(pre, 4000, 3000)).toEqual({ width: 341, height: 256 });
    expect(decodeTarget(pre, 3000, 4000)).toEqual({ width: 256, height: 341 });
    expect(decodeTarget(pre, 640, 480)).toBeNull(); // 480 < 512
    expect(decodeTarget({ ...pre, resizeMode: 'squash', resize: 224 }, 1000, 448)).toEqual({ width: 224, height: 224 });
  });

  it('passes decoded pixels through and, without a browser, refuses encoded images as the exact path does', async () => {
    const px = { name: 'px', data: new Uint8Array(12), width: 2, height: 2, channels: 3 as const };
    expect(await decodeWebFor(px, 'px', pre, 'resize-on-decode')).toBe(px);
    const blob = new Blob([new Uint8Array(8)], { type: 'image/png' });
    await expect(decodeWebFor(blob, 'b.png', pre, 'resize-on-decode')).rejects.toThrow(
      'b.png: decoding needs OffscreenCanvas (a browser)',
    );
  });
});
