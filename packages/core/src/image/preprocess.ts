import { MobileNetError } from '../ir/errors.js';
import type { Preprocessing } from '../models/convention.js';
import { checkPreprocessing } from '../runtime/metadata.js';
import { type WasmResampler, wasmResampler } from './resample-wasm.js';

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
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    fail(`expected a positive integer width and height, received ${width}x${height}`);
  if (channels !== 3 && channels !== 4) fail(`expected 3 (RGB) or 4 (RGBA) channels, received ${channels}`);
  if (data.length !== width * height * channels)
    fail(`expected ${width * height * channels} bytes for ${width}x${height}x${channels}, received ${data.length}`);
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
  if (pre.resizeMode === 'squash')
    return { resizedWidth: pre.size, resizedHeight: pre.size, left: 0, top: 0, size: pre.size };
  // torchvision Resize(int): the short side becomes `resize`, the long side int(resize * long / short).
  const short = Math.min(width, height);
  const long = Math.trunc((pre.resize * Math.max(width, height)) / short);
  const [rw, rh] = width <= height ? [pre.resize, long] : [long, pre.resize];
  return {
    resizedWidth: rw,
    resizedHeight: rh,
    left: roundHalfEven((rw - pre.size) / 2),
    top: roundHalfEven((rh - pre.size) / 2),
    size: pre.size,
  };
}

const FILTERS = {
  bilinear: { support: 1, f: (x: number) => ((x < 0 ? -x : x) < 1 ? 1 - (x < 0 ? -x : x) : 0) },
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
 * Weights are flat, `taps` per output (zero-padded past `lens[o]`), so the inner loops index without allocation.
 */
export interface AxisWeights {
  readonly starts: Int32Array;
  readonly lens: Int32Array;
  readonly taps: number;
  readonly weights: Float32Array;
  /** The input range [first, end) that any output reads. */
  readonly first: number;
  readonly end: number;
}

function axisWeights(
  inSize: number,
  outSize: number,
  from: number,
  count: number,
  kind: Preprocessing['interpolation'],
): AxisWeights {
  const { support: base, f } = FILTERS[kind];
  const scale = inSize / outSize;
  const support = scale >= 1 ? base * scale : base;
  const inv = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(count);
  const lens = new Int32Array(count);
  const weights = new Float32Array(count * taps);
  const w = new Float64Array(taps);
  let first = inSize;
  let end = 0;
  for (let o = 0; o < count; o++) {
    const center = scale * (from + o + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const len = Math.max(xmax - xmin, 0);
    let total = 0;
    for (let j = 0; j < len; j++) total += w[j] = f((j + xmin - center + 0.5) * inv);
    // Rounded to float32 before dividing, as the weights were computed before (fixture agreement unchanged).
    for (let j = 0; j < len; j++) weights[o * taps + j] = Math.fround(w[j]!) / (total || 1);
    starts[o] = xmin;
    lens[o] = len;
    if (len > 0) {
      first = Math.min(first, xmin);
      end = Math.max(end, xmax);
    }
  }
  return { starts, lens, taps, weights, first: Math.min(first, end), end };
}

/** Both axes' weights for one (input size, preprocessing): computed once, then reused for every image of that size. */
interface Plan {
  readonly n: number;
  /** The image is already at the resize size (decoded at it): only crop and normalize. */
  readonly identity: boolean;
  readonly hx: AxisWeights;
  readonly vy: AxisWeights;
}

const PLAN_CACHE_SIZE = 64;
const plans = new Map<string, Plan>();

function planFor(pre: Preprocessing, w: number, h: number): Plan {
  const key = `${w}x${h}:${pre.resizeMode}:${pre.resize}:${pre.size}:${pre.interpolation}`;
  let plan = plans.get(key);
  if (plan) return plan;
  const p = resizePlan(pre, w, h);
  plan = {
    n: p.size,
    identity: p.resizedWidth === w && p.resizedHeight === h,
    hx: axisWeights(w, p.resizedWidth, p.left, p.size, pre.interpolation),
    vy: axisWeights(h, p.resizedHeight, p.top, p.size, pre.interpolation),
  };
  // A collection of photos has a handful of sizes; a stream of all-different sizes must not grow memory without end.
  if (plans.size >= PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value!);
  plans.set(key, plan);
  return plan;
}

/** Which loops `preprocess` runs: WebAssembly SIMD where it can (default), or JavaScript only. */
export type PreprocessKernels = 'auto' | 'js';
let kernels: PreprocessKernels = 'auto';

/**
 * Chooses the loops (for tests and measurements; both compute the same maths, to float32 rounding). Returns
 * whether WebAssembly SIMD will be used.
 */
export function preprocessKernels(kind: PreprocessKernels): boolean {
  kernels = kind;
  return kind === 'auto' && wasmResampler() !== null;
}

/** Scratch buffers reused across calls (preprocess is synchronous, so one set per thread suffices). */
let rowsScratch = new Float32Array(0);

/**
 * Resize, crop and normalize one image into `out` at `offset` as a [3, size, size] planar float tensor:
 * (pixel / 255 - mean) / std per channel. The one implementation of this maths for every runtime.
 *
 * Separable: a horizontal pass over only the input rows the crop reads, producing only the cropped columns (all
 * three channels in one sweep of the interleaved pixels), then a vertical pass row by row into the output.
 */
export function preprocess(img: RgbImage, pre: Preprocessing, out?: Float32Array, offset = 0): Float32Array {
  checkArguments(img, pre);
  out ??= new Float32Array(3 * pre.size * pre.size);
  if (!Number.isSafeInteger(offset) || offset < 0 || out.length < offset + 3 * pre.size * pre.size)
    throw new MobileNetError(
      'option',
      'preprocess output',
      `room for ${3 * pre.size * pre.size} floats at offset ${offset}`,
      `${out.length} floats`,
    );
  const { width: w, height: h, channels: ch, data } = img;
  const { n, hx, vy, identity } = planFor(pre, w, h);
  if (identity) return cropNormalize(img, resizePlan(pre, w, h), pre, out, offset);
  const wasm = kernels !== 'js' && n % 4 === 0 ? wasmResampler() : null;
  if (wasm && preprocessWasm(wasm, img, pre, { n, hx, vy, identity }, out, offset)) return out;
  const rows = vy.end - vy.first;
  const plane = rows * n;
  if (rowsScratch.length < 3 * plane) rowsScratch = new Float32Array(3 * plane);
  const tmp = rowsScratch;
  horizontal(data, w, ch, vy.first, vy.end, hx, n, tmp, plane);
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * pre.std[c]!);
    const shift = pre.mean[c]! / pre.std[c]!;
    vertical(tmp, c * plane - vy.first * n, vy, n, out, offset + c * n * n, scale, shift);
  }
  return out;
}

/** Preprocessing objects already checked (a caller passes the same one for every image of a collection). */
const checkedPre = new WeakSet<Preprocessing>();

/**
 * The library's own guard on what a caller passes: a size of 0 or a std of 0 is refused by name (they made a raw
 * RangeError, or NaN everywhere); the image's fields must match its pixels.
 */
function checkArguments(img: RgbImage, pre: Preprocessing): void {
  if (!checkedPre.has(pre)) {
    checkPreprocessing(pre, 'option preprocessing');
    checkedPre.add(pre);
  }
  checkRgbImage(img, 'image');
}

/** Bytes from `at` rounded up to 16 (f32x4 loads and stores). */
const align = (at: number) => (at + 15) & ~15;

/**
 * The same two passes in WebAssembly SIMD: the input rows the crop reads, the weights, the intermediate planes and
 * the output are laid out in its memory (grown as needed, kept for the next image), then the output copied out.
 * False when its memory cannot grow that far.
 */
function preprocessWasm(
  wasm: WasmResampler,
  img: RgbImage,
  pre: Preprocessing,
  plan: Plan,
  out: Float32Array,
  offset: number,
): boolean {
  const { width: w, channels: ch, data } = img;
  const { n, hx, vy } = plan;
  const rowBytes = w * ch;
  const rows = vy.end - vy.first;
  const src = 0;
  const hs = align(rows * rowBytes + 4); // 4 bytes of slack: each pixel is read as 4 bytes
  const hl = hs + 4 * n;
  const hw = align(hl + 4 * n);
  const vs = align(hw + 4 * hx.weights.length);
  const vl = vs + 4 * n;
  const vw = align(vl + 4 * n);
  const tmp = align(vw + 4 * vy.weights.length);
  const dst = align(tmp + 4 * 3 * rows * n);
  const end = dst + 4 * 3 * n * n;
  const memory = wasm.memory;
  if (memory.buffer.byteLength < end) {
    try {
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    } catch {
      return false; // past WebAssembly's 4 GiB (or the engine's limit): the JavaScript loops take it
    }
  }
  const buf = memory.buffer;
  new Uint8Array(buf, src, rows * rowBytes).set(data.subarray(vy.first * rowBytes, vy.end * rowBytes));
  new Int32Array(buf, hs, n).set(hx.starts);
  new Int32Array(buf, hl, n).set(hx.lens);
  new Float32Array(buf, hw, hx.weights.length).set(hx.weights);
  new Int32Array(buf, vs, n).set(vy.starts);
  new Int32Array(buf, vl, n).set(vy.lens);
  new Float32Array(buf, vw, vy.weights.length).set(vy.weights);
  // Rows are numbered from 0 in the copy; starts along y are shifted by `first` through the plane's base pointer.
  wasm.h(src, rowBytes, ch, 0, rows, hs, hl, hx.taps, hw, n, tmp, rows * n);
  for (let c = 0; c < 3; c++) {
    const base = tmp + 4 * (c * rows * n - vy.first * n);
    wasm.v(base, vs, vl, vy.taps, vw, n, dst + 4 * c * n * n, 1 / (255 * pre.std[c]!), pre.mean[c]! / pre.std[c]!);
  }
  out.set(new Float32Array(buf, dst, 3 * n * n), offset);
  return true;
}

/** At scale 1 the filters weigh one pixel by exactly 1 and the rest by 0: the same numbers, without the sums. */
function cropNormalize(
  img: RgbImage,
  p: ResizePlan,
  pre: Preprocessing,
  out: Float32Array,
  offset: number,
): Float32Array {
  const { width: w, channels: ch, data } = img;
  const n = p.size;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * pre.std[c]!);
    const shift = pre.mean[c]! / pre.std[c]!;
    for (let y = 0; y < n; y++) {
      const o = offset + c * n * n + y * n;
      const i = ((p.top + y) * w + p.left) * ch + c;
      for (let x = 0; x < n; x++) out[o + x] = data[i + x * ch]! * scale - shift;
    }
  }
  return out;
}

/** Rows [r0, r1) of interleaved pixels, filtered along x into three planes of `n` columns each. */
function horizontal(
  data: ArrayLike<number>,
  w: number,
  ch: number,
  r0: number,
  r1: number,
  hx: AxisWeights,
  n: number,
  tmp: Float32Array,
  plane: number,
) {
  const { starts, lens, taps, weights } = hx;
  for (let r = r0; r < r1; r++) {
    const base = r * w * ch;
    const o = (r - r0) * n;
    for (let x = 0; x < n; x++) {
      const len = lens[x]!;
      let k = x * taps;
      const i0 = base + starts[x]! * ch;
      if (len === 4) {
        const w0 = weights[k]!,
          w1 = weights[k + 1]!,
          w2 = weights[k + 2]!,
          w3 = weights[k + 3]!;
        const i = i0,
          a = i + ch,
          b = a + ch,
          d = b + ch;
        tmp[o + x] = w0 * data[i]! + w1 * data[a]! + w2 * data[b]! + w3 * data[d]!;
        tmp[plane + o + x] = w0 * data[i + 1]! + w1 * data[a + 1]! + w2 * data[b + 1]! + w3 * data[d + 1]!;
        tmp[2 * plane + o + x] = w0 * data[i + 2]! + w1 * data[a + 2]! + w2 * data[b + 2]! + w3 * data[d + 2]!;
        continue;
      }
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let j = 0, i = i0; j < len; j++, k++, i += ch) {
        const wt = weights[k]!;
        s0 += wt * data[i]!;
        s1 += wt * data[i + 1]!;
        s2 += wt * data[i + 2]!;
      }
      tmp[o + x] = s0;
      tmp[plane + o + x] = s1;
      tmp[2 * plane + o + x] = s2;
    }
  }
}

/** One channel's plane filtered along y, then normalized; each output reads `len` rows at the same column. */
function vertical(
  tmp: Float32Array,
  base: number,
  vy: AxisWeights,
  n: number,
  out: Float32Array,
  at: number,
  scale: number,
  shift: number,
) {
  const { starts, lens, taps, weights } = vy;
  for (let y = 0; y < n; y++) {
    const len = lens[y]!;
    const k = y * taps;
    const src = base + starts[y]! * n;
    const o = at + y * n;
    if (len === 4) {
      // The common case (downscale by 1.5-2x, bilinear): unrolled, four rows read in step.
      const w0 = weights[k]!,
        w1 = weights[k + 1]!,
        w2 = weights[k + 2]!,
        w3 = weights[k + 3]!;
      for (let x = 0, i = src; x < n; x++, i++) {
        out[o + x] = (w0 * tmp[i]! + w1 * tmp[i + n]! + w2 * tmp[i + 2 * n]! + w3 * tmp[i + 3 * n]!) * scale - shift;
      }
      continue;
    }
    for (let x = 0; x < n; x++) {
      let s = 0;
      for (let j = 0, i = src + x; j < len; j++, i += n) s += weights[k + j]! * tmp[i]!;
      out[o + x] = s * scale - shift;
    }
  }
}
