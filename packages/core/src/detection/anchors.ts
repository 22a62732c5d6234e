/**
 * SSD's default boxes, as torchvision 0.14's `DefaultBoxGenerator` makes them
 * (torchvision/models/detection/anchor_utils.py, class DefaultBoxGenerator, lines 136-268): scales from min_ratio
 * to max_ratio (then 1.0), per map the pairs (s_k, s_k), (s'_k, s'_k) with s'_k = sqrt(s_k * s_k+1), then
 * (s_k sqrt(ar), s_k / sqrt(ar)) and its transpose for each aspect ratio; centres ((i + 0.5) / f); boxes in the
 * order torchvision emits them (map, then row, then column, then pair) as x1, y1, x2, y2 in pixels. Arithmetic is
 * float32 step by step, as torch does it, so the boxes are torchvision's bit for bit.
 */
import { MobileNetError } from '../ir/errors.js';

const f = Math.fround;

export interface DefaultBoxOptions {
  /** Per feature map, the aspect ratios beyond 1 (each adds two boxes per location). */
  aspectRatios: readonly (readonly number[])[];
  /** Smallest scale (torchvision's default 0.15), used when `scales` is not given. */
  minRatio?: number;
  /** Largest scale (torchvision's default 0.9), used when `scales` is not given. */
  maxRatio?: number;
  /** Explicit scales: one per map plus one. */
  scales?: readonly number[];
  /** Explicit steps in pixels, one per map; without them a map's cell is image / grid. */
  steps?: readonly number[];
  /** Clip the widths and heights (as fractions of the image) to [0, 1]; torchvision's default true. */
  clip?: boolean;
}

/** SSDLite320's generator: `DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95)`. */
export const SSDLITE_DEFAULT_BOXES: DefaultBoxOptions = Object.freeze({
  aspectRatios: Object.freeze(Array.from({ length: 6 }, () => Object.freeze([2, 3]))),
  minRatio: 0.2,
  maxRatio: 0.95,
});

/** SSDLite320's input, [height, width], and its six feature maps there (C4 expansion, last conv, four extras). */
export const SSDLITE320_INPUT_SIZE: readonly [number, number] = Object.freeze([320, 320]) as never;
export const SSDLITE320_GRIDS: readonly (readonly [number, number])[] = Object.freeze(
  ([20, 10, 5, 3, 2, 1] as const).map((g) => Object.freeze([g, g]) as readonly [number, number]),
);

/** `DefaultBoxGenerator.scales`: min_ratio + (max_ratio - min_ratio) * k / (maps - 1), then 1.0. */
export function defaultBoxScales(options: DefaultBoxOptions): number[] {
  if (options.scales) return [...options.scales];
  const maps = options.aspectRatios.length;
  const min = options.minRatio ?? 0.15;
  const max = options.maxRatio ?? 0.9;
  if (maps <= 1) return [min, max];
  const range = max - min;
  return [...Array.from({ length: maps }, (_, k) => min + (range * k) / (maps - 1.0)), 1.0];
}

/** `DefaultBoxGenerator._wh_pairs[k]` as float32 (width, height) pairs, clipped to [0, 1] when `clip`. */
export function defaultBoxSizes(options: DefaultBoxOptions, scales: readonly number[], k: number): Float32Array {
  const ratios = options.aspectRatios[k] ?? [];
  const s = scales[k] as number;
  const sPrime = Math.sqrt(s * (scales[k + 1] as number));
  const pairs = [s, s, sPrime, sPrime];
  for (const ar of ratios) {
    const sq = Math.sqrt(ar);
    const w = s * sq;
    const h = s / sq;
    pairs.push(w, h, h, w);
  }
  const out = Float32Array.from(pairs);
  if (options.clip ?? true) for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(out[i] as number, 0), 1);
  return out;
}

/** Boxes per location on each map: 2 + 2 * (aspect ratios of that map). */
export function defaultBoxesPerLocation(options: DefaultBoxOptions): number[] {
  return options.aspectRatios.map((r) => 2 + 2 * r.length);
}

/**
 * Every default box for feature maps of `grids` ([height, width] each) on an image of `imageSize`
 * ([height, width]), as x1, y1, x2, y2 float32 in pixels, in torchvision's order.
 */
export function defaultBoxes(
  options: DefaultBoxOptions,
  grids: readonly (readonly [number, number])[],
  imageSize: readonly [number, number],
): Float32Array {
  const maps = options.aspectRatios.length;
  if (grids.length !== maps) {
    throw new MobileNetError(
      'anchors',
      'defaultBoxes grids',
      `${maps} feature maps (one per aspect-ratio list)`,
      `${grids.length}`,
    );
  }
  if (options.steps && options.steps.length !== maps) {
    throw new MobileNetError(
      'anchors',
      'defaultBoxes steps',
      `${maps} steps (one per feature map)`,
      `${options.steps.length}`,
    );
  }
  const scales = defaultBoxScales(options);
  if (scales.length < maps + 1) {
    throw new MobileNetError(
      'anchors',
      'defaultBoxes scales',
      `${maps + 1} scales (one per map plus one)`,
      `${scales.length}`,
    );
  }
  const [imageH, imageW] = imageSize;
  const perLocation = defaultBoxesPerLocation(options);
  const total = grids.reduce((n, [h, w], k) => n + h * w * (perLocation[k] as number), 0);
  const out = new Float32Array(total * 4);
  const W = f(imageW);
  const H = f(imageH);
  let o = 0;
  for (let k = 0; k < maps; k++) {
    const [gh, gw] = grids[k] as [number, number];
    const step = options.steps?.[k];
    const fx = f(step === undefined ? gw : imageW / step);
    const fy = f(step === undefined ? gh : imageH / step);
    const sizes = defaultBoxSizes(options, scales, k);
    for (let y = 0; y < gh; y++) {
      const cy = f(f(y + 0.5) / fy);
      for (let x = 0; x < gw; x++) {
        const cx = f(f(x + 0.5) / fx);
        for (let p = 0; p < sizes.length; p += 2) {
          const hw = f(0.5 * (sizes[p] as number));
          const hh = f(0.5 * (sizes[p + 1] as number));
          out[o++] = f(f(cx - hw) * W);
          out[o++] = f(f(cy - hh) * H);
          out[o++] = f(f(cx + hw) * W);
          out[o++] = f(f(cy + hh) * H);
        }
      }
    }
  }
  return out;
}
