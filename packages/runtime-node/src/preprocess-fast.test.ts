import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Preprocessing, type RgbImage, preprocess, preprocessKernels, resizePlan } from '@mobilenet/core';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from './index.js';

const fix = (f: string) => join(import.meta.dirname, '../test/fixtures', f);
const REF = JSON.parse(readFileSync(fix('reference.json'), 'utf8')) as {
  mean: [number, number, number];
  std: [number, number, number];
  cases: Record<string, { resize: number | null; crop: number; interpolation: 'bilinear' | 'bicubic' }>;
};
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// WebAssembly SIMD runs everywhere Node 20 does; in CI its absence is a failure.
const simd = preprocessKernels('auto');
afterAll(() => void preprocessKernels('auto'));

describe.each([
  ['WebAssembly SIMD', 'auto'],
  ['JavaScript', 'js'],
] as const)('fast preprocessing, %s loops', (label, kind) => {
  it.runIf(kind === 'js' || simd || process.env.CI)(`${label}: available`, () => {
    expect(preprocessKernels(kind)).toBe(kind === 'auto');
  });

  // Bilinear within 1e-5; bicubic 2.01e-5 (as before this implementation: float32 weights against torch's).
  it('agrees with torchvision to 2e-5 (bicubic 2.5e-5) on every fixture, twice over (cached weights reused)', async () => {
    for (const [name, c] of Object.entries(REF.cases)) {
      const file = `${name.split('-')[0]}.png`;
      const pre: Preprocessing = {
        mean: REF.mean,
        std: REF.std,
        resizeMode: c.resize ? 'crop' : 'squash',
        resize: c.resize ?? c.crop,
        size: c.crop,
        interpolation: c.interpolation,
      };
      const b = readFileSync(fix(`reference-${name}.bin`));
      const ref = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      const img = await decodeImage(fix(file), file);
      preprocessKernels(kind);
      const tol = c.interpolation === 'bicubic' ? 2.5e-5 : 2e-5;
      expect(maxAbs(preprocess(img, pre), ref), name).toBeLessThan(tol);
      expect(maxAbs(preprocess(img, pre), ref), `${name} again`).toBeLessThan(tol);
    }
  });

  // An independent, slow statement of the same maths: each output pixel as a 2D weighted sum over the input,
  // weights from the filter formula in double precision. The fast path's row/column ranges must not change it.
  const filter = (kind: 'bilinear' | 'bicubic') =>
    kind === 'bilinear'
      ? { support: 1, f: (x: number) => Math.max(0, 1 - Math.abs(x)) }
      : {
          support: 2,
          f: (x: number) => {
            const t = Math.abs(x);
            return t < 1 ? 1.5 * t ** 3 - 2.5 * t ** 2 + 1 : t < 2 ? -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 : 0;
          },
        };
  function weights(inSize: number, outSize: number, o: number, kind: 'bilinear' | 'bicubic'): Map<number, number> {
    const { support, f } = filter(kind);
    const scale = inSize / outSize;
    const s = scale >= 1 ? support * scale : support;
    const center = scale * (o + 0.5);
    const ws = new Map<number, number>();
    for (let i = Math.max(0, Math.trunc(center - s + 0.5)); i < Math.min(inSize, Math.trunc(center + s + 0.5)); i++)
      ws.set(i, f((i - center + 0.5) / Math.max(1, scale)));
    const total = [...ws.values()].reduce((a, v) => a + v, 0);
    for (const [k, v] of ws) ws.set(k, v / total);
    return ws;
  }
  function slow(img: RgbImage, pre: Preprocessing): Float32Array {
    const p = resizePlan(pre, img.width, img.height);
    const n = p.size;
    const out = new Float32Array(3 * n * n);
    for (let y = 0; y < n; y++) {
      const wy = weights(img.height, p.resizedHeight, p.top + y, pre.interpolation);
      for (let x = 0; x < n; x++) {
        const wx = weights(img.width, p.resizedWidth, p.left + x, pre.interpolation);
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (const [iy, vy] of wy)
            for (const [ix, vx] of wx) s += vy * vx * img.data[(iy * img.width + ix) * img.channels + c]!;
          out[c * n * n + y * n + x] = (s / 255 - pre.mean[c]!) / pre.std[c]!;
        }
      }
    }
    return out;
  }

  it('equals the plain 2D sum on odd sizes, RGBA, up- and downscaling, both filters, squash and crop', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
    const cases: [number, number, 3 | 4, Partial<Preprocessing>][] = [
      [97, 61, 3, { resize: 37, size: 32 }],
      [61, 97, 4, { resize: 37, size: 32, interpolation: 'bicubic' }],
      [20, 13, 3, { resize: 37, size: 32 }], // upscaling
      [150, 40, 3, { resizeMode: 'squash', resize: 24, size: 24, interpolation: 'bicubic' }],
      [33, 33, 3, { resize: 33, size: 33 }], // identity
      [40, 37, 4, { resize: 37, size: 32, interpolation: 'bicubic' }], // identity resize, cropped
      [50, 71, 3, { resize: 34, size: 30 }], // a size that is not a multiple of 4: JavaScript loops in both modes
    ];
    preprocessKernels(kind);
    for (const [w, h, ch, o] of cases) {
      const img = { data: Uint8Array.from({ length: w * h * ch }, rand), width: w, height: h, channels: ch };
      const pre: Preprocessing = {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        resizeMode: 'crop',
        resize: 37,
        size: 32,
        interpolation: 'bilinear',
        ...o,
      };
      expect(maxAbs(preprocess(img, pre), slow(img, pre)), `${w}x${h}x${ch} ${JSON.stringify(o)}`).toBeLessThan(2e-5);
    }
  });
});
