/**
 * torchvision 0.14's `BoxCoder.decode_single` (torchvision/models/detection/_utils.py, lines 122-137 and 183-224)
 * and `clip_boxes_to_image` (torchvision/ops/boxes.py, lines 136-165), on flat float32 arrays of x1, y1, x2, y2.
 * Every step is float32 as in torch; torch.exp (SLEEF, within 1 ulp) is the one step that may differ by an ulp.
 */

const f = Math.fround;

/** SSD's box coder weights (wx, wy, ww, wh): `BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))` in ssd.py. */
export const SSD_BOX_CODER_WEIGHTS: readonly [number, number, number, number] = Object.freeze([10, 10, 5, 5]) as never;

/** `bbox_xform_clip = math.log(1000.0 / 16)`: dw and dh are clamped to it before exp. */
export const BBOX_XFORM_CLIP = Math.log(1000.0 / 16);

/**
 * Decodes `deltas` (dx, dy, dw, dh per box, as the regression head emits them) against `anchors` (x1, y1, x2, y2)
 * into `out` (x1, y1, x2, y2), which may be `deltas` itself. NaN deltas give NaN coordinates, as in torch.
 */
export function decodeBoxes(
  deltas: Float32Array,
  anchors: Float32Array,
  weights: readonly [number, number, number, number] = SSD_BOX_CODER_WEIGHTS,
  out: Float32Array = new Float32Array(deltas.length),
): Float32Array {
  const [wx, wy, ww, wh] = weights.map(f) as [number, number, number, number];
  const clip = f(BBOX_XFORM_CLIP);
  const half = f(0.5);
  const n = Math.min(deltas.length, anchors.length) >> 2;
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const ax1 = anchors[o] as number;
    const ay1 = anchors[o + 1] as number;
    const width = f((anchors[o + 2] as number) - ax1);
    const height = f((anchors[o + 3] as number) - ay1);
    const cx = f(ax1 + f(half * width));
    const cy = f(ay1 + f(half * height));
    const dx = f((deltas[o] as number) / wx);
    const dy = f((deltas[o + 1] as number) / wy);
    let dw = f((deltas[o + 2] as number) / ww);
    let dh = f((deltas[o + 3] as number) / wh);
    if (dw > clip) dw = clip;
    if (dh > clip) dh = clip;
    const pcx = f(f(dx * width) + cx);
    const pcy = f(f(dy * height) + cy);
    const hw = f(half * f(f(Math.exp(dw)) * width));
    const hh = f(half * f(f(Math.exp(dh)) * height));
    out[o] = pcx - hw;
    out[o + 1] = pcy - hh;
    out[o + 2] = pcx + hw;
    out[o + 3] = pcy + hh;
  }
  return out;
}

/** Clamps x to [0, width] and y to [0, height] in place, as `clip_boxes_to_image` (NaN stays NaN). */
export function clipBoxes(boxes: Float32Array, height: number, width: number): Float32Array {
  for (let i = 0; i < boxes.length; i++) {
    const v = boxes[i] as number;
    const max = i & 1 ? height : width;
    if (v < 0) boxes[i] = 0;
    else if (v > max) boxes[i] = max;
  }
  return boxes;
}
