// A segmenter's logits [C, h, w] to the image's size as torch does it: `F.interpolate(mode='bilinear',
// align_corners=False)` (aten/src/ATen/native/UpSampleBilinear2d.cpp: source = (dst + 0.5) * in / out - 0.5,
// clamped at 0; float32 weights), then argmax over the classes (the first of equal maxima, as torch.argmax).
// Pixels agree with torch's except at near ties (resize-argmax.test.ts).
// Class by class over whole planes, so each plane is read in order; nothing is allocated per pixel.

/** Source index pairs and weights along one axis, torch's `area_pixel_compute_source_index` (align_corners=False). */
function axis(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l1: Float32Array } {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    // torch: `scale * (dst_index + 0.5) - 0.5` in double (an int64 plus 0.5), stored as float.
    const src = f(Math.max(0, scale * (d + 0.5) - 0.5));
    const s0 = Math.min(Math.floor(src), inSize - 1);
    i0[d] = s0;
    i1[d] = s0 < inSize - 1 ? s0 + 1 : s0;
    l1[d] = f(src - s0);
  }
  return { i0, i1, l1 };
}

/**
 * Bilinearly resizes each class plane of `logits` ([classes, inH, inW], row-major) to outH x outW and calls `plane`
 * with each resized plane (one buffer, reused: copy what you keep).
 */
export function resizePlanes(
  logits: Float32Array,
  classes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  plane: (c: number, resized: Float32Array) => void,
): void {
  const f = Math.fround;
  const x = axis(inW, outW);
  const y = axis(inH, outH);
  const buf = new Float32Array(outH * outW);
  for (let c = 0; c < classes; c++) {
    const base = c * inH * inW;
    let o = 0;
    for (let oy = 0; oy < outH; oy++) {
      const r0 = base + y.i0[oy]! * inW;
      const r1 = base + y.i1[oy]! * inW;
      const h1 = y.l1[oy]!;
      const h0 = f(1 - h1);
      for (let ox = 0; ox < outW; ox++) {
        const a = x.i0[ox]!;
        const b = x.i1[ox]!;
        const w1 = x.l1[ox]!;
        const w0 = f(1 - w1);
        // torch's own float32 kernel is not exact (1.5e-5 from float64 on N(0, 16) logits); float32 steps here.
        const top = f(f(w0 * logits[r0 + a]!) + f(w1 * logits[r0 + b]!));
        const bottom = f(f(w0 * logits[r1 + a]!) + f(w1 * logits[r1 + b]!));
        buf[o++] = f(f(h0 * top) + f(h1 * bottom));
      }
    }
    plane(c, buf);
  }
}

/** Where plane `c` beats the best so far, it becomes the class: the first class of the highest value wins. */
function keepBest(best: Float32Array, classOf: Uint16Array, c: number, p: Float32Array): void {
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    // A NaN never wins (torch.argmax would pick it; a NaN map is refused before it gets here).
    if (v > best[i]!) {
      best[i] = v;
      classOf[i] = c;
    }
  }
}

/** The class of each pixel after resizing the logits to outH x outW: the first class of the highest value. */
export function resizeArgmax(
  logits: Float32Array,
  classes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Uint16Array {
  const best = new Float32Array(outH * outW).fill(Number.NEGATIVE_INFINITY);
  const out = new Uint16Array(outH * outW);
  resizePlanes(logits, classes, inH, inW, outH, outW, (c, p) => keepBest(best, out, c, p));
  return out;
}

/** Softmax over the classes of resized logits ([classes, outH, outW]): the per-class probabilities. */
export function resizeSoftmax(
  logits: Float32Array,
  classes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  return resizeArgmaxSoftmax(logits, classes, inH, inW, outH, outW).probabilities;
}

/**
 * `resizeArgmax` and `resizeSoftmax` from one resize: the mask is taken from the resized logits (as resizeArgmax
 * does), before the softmax rounds near-equal values together.
 * @internal
 */
export function resizeArgmaxSoftmax(
  logits: Float32Array,
  classes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): { classes: Uint16Array; probabilities: Float32Array } {
  const n = outH * outW;
  const out = new Float32Array(classes * n);
  const best = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
  const classOf = new Uint16Array(n);
  resizePlanes(logits, classes, inH, inW, outH, outW, (c, p) => {
    out.set(p, c * n);
    keepBest(best, classOf, c, p);
  });
  // `best` is each pixel's largest logit already: the softmax's shift.
  const sum = new Float64Array(n);
  for (let c = 0; c < classes; c++)
    for (let i = 0; i < n; i++) sum[i]! += out[c * n + i] = Math.exp(out[c * n + i]! - best[i]!);
  for (let c = 0; c < classes; c++) for (let i = 0; i < n; i++) out[c * n + i]! /= sum[i]!;
  return { classes: classOf, probabilities: out };
}
