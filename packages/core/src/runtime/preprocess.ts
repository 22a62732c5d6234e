import type { Preprocessing } from '../models/convention.js';

/** Decoded pixels, row-major, interleaved RGB or RGBA (alpha is ignored, as PIL's convert('RGB') does). */
export interface RgbImage {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

/** Checks pixels handed over by a caller (not decoded by us); the error names the image and what is wrong. */
export function checkRgbImage(img: RgbImage, name: string): RgbImage {
  const { width, height, channels, data } = img;
  const fail = (message: string): never => {
    throw new Error(`${name}: ${message}`);
  };
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) fail(`expected a positive integer width and height, received ${width}x${height}`);
  if (channels !== 3 && channels !== 4) fail(`expected 3 (RGB) or 4 (RGBA) channels, received ${channels}`);
  if (data.length !== width * height * channels) fail(`expected ${width * height * channels} bytes for ${width}x${height}x${channels}, received ${data.length}`);
  return img;
}

/** The resize and crop that `pre` applies to a width x height image. */
export interface ResizePlan {
  readonly resizedWidth: number;
  readonly resizedHeight: number;
  readonly left: number;
  readonly top: number;
  readonly size: number;
}

/** Python's round(): halves go to the even neighbour, as torchvision's center_crop computes its offsets. */
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

export function resizePlan(pre: Preprocessing, width: number, height: number): ResizePlan {
  if (pre.resizeMode === 'squash') return { resizedWidth: pre.size, resizedHeight: pre.size, left: 0, top: 0, size: pre.size };
  // torchvision Resize(int): the short side becomes `resize`, the long side int(resize * long / short).
  const short = Math.min(width, height);
  const long = Math.trunc((pre.resize * Math.max(width, height)) / short);
  const [rw, rh] = width <= height ? [pre.resize, long] : [long, pre.resize];
  return { resizedWidth: rw, resizedHeight: rh, left: roundHalfEven((rw - pre.size) / 2), top: roundHalfEven((rh - pre.size) / 2), size: pre.size };
}

const FILTERS = {
  bilinear: { support: 1, f: (x: number) => (x < 0 ? -x : x) < 1 ? 1 - (x < 0 ? -x : x) : 0 },
  // Keys cubic with a = -0.5, as PIL and torch's antialiased bicubic use.
  bicubic: {
    support: 2,
    f: (x: number) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
} as const;

/**
 * Antialiased resampling weights along one axis, as PIL and torch's `antialias=True` compute them: the filter is
 * widened by the downscale factor so that every input pixel contributes. Only outputs [from, from + count) are made.
 */
function axisWeights(inSize: number, outSize: number, from: number, count: number, kind: Preprocessing['interpolation']) {
  const { support: base, f } = FILTERS[kind];
  const scale = inSize / outSize;
  const support = scale >= 1 ? base * scale : base;
  const inv = scale >= 1 ? 1 / scale : 1;
  const starts = new Int32Array(count);
  const weights: Float32Array[] = [];
  for (let o = 0; o < count; o++) {
    const center = scale * (from + o + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float32Array(Math.max(xmax - xmin, 0));
    let total = 0;
    for (let j = 0; j < w.length; j++) total += w[j] = f((j + xmin - center + 0.5) * inv);
    for (let j = 0; j < w.length; j++) w[j]! /= total || 1;
    starts[o] = xmin;
    weights.push(w);
  }
  return { starts, weights };
}

/**
 * Resize, crop and normalize one image into `out` at `offset` as a [3, size, size] planar float tensor:
 * (pixel / 255 - mean) / std per channel. The one implementation of this maths for every runtime.
 */
export function preprocess(img: RgbImage, pre: Preprocessing, out = new Float32Array(3 * pre.size * pre.size), offset = 0): Float32Array {
  const { width: w, height: h, channels: ch, data } = img;
  const p = resizePlan(pre, w, h);
  const n = p.size;
  const hx = axisWeights(w, p.resizedWidth, p.left, n, pre.interpolation);
  const vy = axisWeights(h, p.resizedHeight, p.top, n, pre.interpolation);
  const rows = new Float32Array(h * n);
  for (let c = 0; c < 3; c++) {
    // Horizontal pass over every input row, producing only the cropped columns.
    for (let y = 0; y < h; y++) {
      const base = y * w * ch + c;
      for (let x = 0; x < n; x++) {
        const ws = hx.weights[x]!;
        let s = 0;
        for (let j = 0, i = base + hx.starts[x]! * ch; j < ws.length; j++, i += ch) s += ws[j]! * data[i]!;
        rows[y * n + x] = s;
      }
    }
    // Vertical pass, producing only the cropped rows, then normalization.
    const scale = 1 / (255 * pre.std[c]!);
    const shift = pre.mean[c]! / pre.std[c]!;
    const plane = offset + c * n * n;
    for (let y = 0; y < n; y++) {
      const ws = vy.weights[y]!;
      const y0 = vy.starts[y]!;
      for (let x = 0; x < n; x++) {
        let s = 0;
        for (let j = 0; j < ws.length; j++) s += ws[j]! * rows[(y0 + j) * n + x]!;
        out[plane + y * n + x] = s * scale - shift;
      }
    }
  }
  return out;
}
