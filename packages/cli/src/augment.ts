import type { RgbImage } from '@mobilenet/core';

/** A small seeded generator (mulberry32): each view's draws depend on the seed, the image and the view only. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Smallest share of the image a crop keeps: torchvision's 0.08 often keeps no object at all in a small set. */
export const CROP_SCALE = [0.35, 1] as const;
/** Aspect ratios of a crop (torchvision's RandomResizedCrop default). */
export const CROP_RATIO = [3 / 4, 4 / 3] as const;

/**
 * One augmented view: torchvision's RandomResizedCrop box rule (area share in CROP_SCALE, log-uniform aspect ratio,
 * 10 tries, then the centre crop) and a horizontal flip half the time. The crop keeps its pixels; the model's own
 * preprocessing resizes it afterwards, as for any image. Seeded by `seed`, the image's hash and the view number.
 */
export function augmentView(img: RgbImage, seed: number, imageKey: string, view: number): RgbImage {
  const random = generator(seed ^ Number.parseInt(imageKey.slice(0, 8), 16) ^ Math.imul(view + 1, 0x9e3779b9));
  const { width: w, height: h, channels: c } = img;
  let box = { x: 0, y: 0, w, h };
  for (let i = 0; i < 10; i++) {
    const area = w * h * (CROP_SCALE[0] + (CROP_SCALE[1] - CROP_SCALE[0]) * random());
    const ratio = Math.exp(Math.log(CROP_RATIO[0]) + (Math.log(CROP_RATIO[1]) - Math.log(CROP_RATIO[0])) * random());
    const cw = Math.round(Math.sqrt(area * ratio));
    const ch = Math.round(Math.sqrt(area / ratio));
    if (cw >= 1 && ch >= 1 && cw <= w && ch <= h) {
      box = { x: Math.floor(random() * (w - cw + 1)), y: Math.floor(random() * (h - ch + 1)), w: cw, h: ch };
      break;
    }
  }
  const flip = random() < 0.5;
  const out = new Uint8Array(box.w * box.h * 3);
  for (let y = 0; y < box.h; y++)
    for (let x = 0; x < box.w; x++) {
      const sx = box.x + (flip ? box.w - 1 - x : x);
      const from = ((box.y + y) * w + sx) * c;
      const to = (y * box.w + x) * 3;
      out[to] = img.data[from]!;
      out[to + 1] = img.data[from + 1]!;
      out[to + 2] = img.data[from + 2]!;
    }
  return { data: out, width: box.w, height: box.h, channels: 3 };
}
