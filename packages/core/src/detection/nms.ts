/**
 * Non-maximum suppression as torchvision 0.14 runs it on the CPU:
 * - `nms`: the kernel torchvision/csrc/ops/cpu/nms_kernel.cpp (nms_kernel_impl): order by score with a stable
 *   sort (`scores.sort(stable=True, descending=True)`: NaN scores first, equal scores by index), then greedily keep a box and suppress every later one whose IoU with it is > the threshold. Float32 arithmetic
 *   step by step; std::max / std::min semantics with NaN (`max(0, NaN)` is 0, so a NaN overlap never suppresses).
 * - `batchedNms`: torchvision/ops/boxes.py, `batched_nms` (lines 44-76) and its two paths: for at most 1000 boxes
 *   (4000 coordinates) the coordinate trick (lines 79-96: shift each class by label * (max coordinate + 1), in
 *   float32, then one nms; one NaN coordinate makes every shifted box NaN, so nothing is suppressed), above that the
 *   per-class loop (lines 99-112: nms per class, then the kept indices, in ascending order, sorted by score with
 *   `torch.sort(descending=True)`, which is unstable: libstdc++'s std::sort, see torch-order.ts).
 * Degenerate boxes never throw: zero area, inverted corners, NaN or infinite coordinates and NaN scores give
 * torchvision's result.
 */
import { torchSortRange, torchStableSortRange } from './torch-order.js';

const f = Math.fround;

// C++'s std::max(a, b) is (a < b) ? b : a and std::min(a, b) is (b < a) ? b : a: with a NaN they return one of the
// operands instead of NaN (std::max(0, NaN) is 0), unlike Math.max / Math.min.
// biome-ignore lint/complexity/useMathMinMax: Math.max would propagate NaN where the C++ kernel does not
const stdMax = (a: number, b: number): number => (a < b ? b : a);
// biome-ignore lint/complexity/useMathMinMax: Math.min would propagate NaN where the C++ kernel does not
const stdMin = (a: number, b: number): number => (b < a ? b : a);

/** Above this many coordinates batched_nms loops over classes instead of shifting them (torchvision's CPU rule). */
export const BATCHED_NMS_COORDINATE_TRICK_MAX = 4000;

/**
 * The kernel's loop over `order[0, count)` (indices into boxes/areas, already in score order): writes the kept
 * indices to `keep` and returns how many. `suppressed` must be zero at those indices.
 */
function suppress(
  boxes: Float32Array,
  areas: Float32Array,
  order: Int32Array,
  count: number,
  iouThreshold: number,
  suppressed: Uint8Array,
  keep: Int32Array,
): number {
  let kept = 0;
  const skipDisjoint = !(iouThreshold < 0);
  for (let a = 0; a < count; a++) {
    const i = order[a] as number;
    if (suppressed[i] === 1) continue;
    keep[kept++] = i;
    const ix1 = boxes[i * 4] as number;
    const iy1 = boxes[i * 4 + 1] as number;
    const ix2 = boxes[i * 4 + 2] as number;
    const iy2 = boxes[i * 4 + 3] as number;
    const iarea = areas[i] as number;
    for (let b = a + 1; b < count; b++) {
      const j = order[b] as number;
      if (suppressed[j] === 1) continue;
      const jx1 = boxes[j * 4] as number;
      const jy1 = boxes[j * 4 + 1] as number;
      const jx2 = boxes[j * 4 + 2] as number;
      const jy2 = boxes[j * 4 + 3] as number;
      const xx1 = stdMax(ix1, jx1);
      const yy1 = stdMax(iy1, jy1);
      const xx2 = stdMin(ix2, jx2);
      const yy2 = stdMin(iy2, jy2);
      const w = stdMax(0, f(xx2 - xx1));
      const h = stdMax(0, f(yy2 - yy1));
      // No overlap: inter is 0 (or NaN for 0 * Infinity), so ovr is 0, -0 or NaN, never > a threshold >= 0.
      if ((w === 0 || h === 0) && skipDisjoint) continue;
      const inter = f(w * h);
      const ovr = f(inter / f(f(iarea + (areas[j] as number)) - inter));
      if (ovr > iouThreshold) suppressed[j] = 1;
    }
  }
  return kept;
}

/** (x2 - x1) * (y2 - y1) in float32, per box. */
function boxAreas(boxes: Float32Array, n: number): Float32Array {
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    areas[i] =
      f((boxes[o + 2] as number) - (boxes[o] as number)) * f((boxes[o + 3] as number) - (boxes[o + 1] as number));
  }
  return areas;
}

/**
 * `torchvision.ops.nms(boxes, scores, iou_threshold)`: indices of the kept boxes (x1, y1, x2, y2 each), by
 * decreasing score.
 */
export function nms(boxes: Float32Array, scores: Float32Array, iouThreshold: number): Int32Array {
  const n = scores.length;
  if (n === 0) return new Int32Array(0);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  torchStableSortRange(scores, order, 0, n);
  const keep = new Int32Array(n);
  const kept = suppress(boxes, boxAreas(boxes, n), order, n, iouThreshold, new Uint8Array(n), keep);
  return keep.slice(0, kept);
}

/**
 * `torchvision.ops.batched_nms(boxes, scores, labels, iou_threshold)`: NMS within each label, never across labels;
 * the kept indices by decreasing score. Takes the same path as torchvision on the CPU (see the file's comment).
 */
export function batchedNms(
  boxes: Float32Array,
  scores: Float32Array,
  labels: ArrayLike<number>,
  iouThreshold: number,
): Int32Array {
  const n = scores.length;
  if (n === 0) return new Int32Array(0);
  return n * 4 > BATCHED_NMS_COORDINATE_TRICK_MAX
    ? batchedNmsPerClass(boxes, scores, labels, iouThreshold)
    : batchedNmsShifted(boxes, scores, labels, iouThreshold);
}

/** `_batched_nms_coordinate_trick`: boxes + label * (max coordinate + 1), all float32, then one nms. */
function batchedNmsShifted(
  boxes: Float32Array,
  scores: Float32Array,
  labels: ArrayLike<number>,
  iouThreshold: number,
): Int32Array {
  const n = scores.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n * 4; i++) {
    const v = boxes[i] as number;
    if (Number.isNaN(v)) {
      max = Number.NaN;
      break;
    }
    if (v > max) max = v;
  }
  const step = f(max + 1);
  const shifted = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const offset = f(f(labels[i] as number) * step);
    for (let c = 0; c < 4; c++) shifted[i * 4 + c] = (boxes[i * 4 + c] as number) + offset;
  }
  return nms(shifted, scores, iouThreshold);
}

/** Most distinct label values a counting sort takes (SSD's are class indices: 91 for COCO). */
const COUNTING_LABELS = 1 << 16;

/**
 * The indices 0..n-1 ordered by label, then by index: a counting sort when the labels are small non-negative
 * integers (class indices: linear, no comparator; a comparator sort of 27,000 candidates was most of SSD's
 * postprocessing), else a comparator sort with the same order.
 */
function groupByLabel(labels: ArrayLike<number>, n: number): Int32Array {
  const out = new Int32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i] as number;
    if (!(Number.isInteger(l) && l >= 0 && l < COUNTING_LABELS)) {
      for (let k = 0; k < n; k++) out[k] = k;
      return out.sort((a, b) => (labels[a] as number) - (labels[b] as number) || a - b);
    }
    if (l > max) max = l;
  }
  const start = new Int32Array(max + 2);
  for (let i = 0; i < n; i++) start[(labels[i] as number) + 1]!++;
  for (let l = 1; l <= max + 1; l++) start[l]! += start[l - 1] as number;
  for (let i = 0; i < n; i++) out[start[labels[i] as number]!++] = i;
  return out;
}

/** `_batched_nms_vanilla`: nms per label (ascending), kept indices ascending, then torch's sort by score. */
function batchedNmsPerClass(
  boxes: Float32Array,
  scores: Float32Array,
  labels: ArrayLike<number>,
  iouThreshold: number,
): Int32Array {
  const n = scores.length;
  // Indices grouped by label, ascending within each label (torch.where(idxs == class_id) keeps index order).
  const byLabel = groupByLabel(labels, n);
  const areas = boxAreas(boxes, n);
  const suppressed = new Uint8Array(n);
  const keepMask = new Uint8Array(n);
  const order = new Int32Array(n);
  const keep = new Int32Array(n);
  for (let start = 0; start < n; ) {
    const label = labels[byLabel[start] as number] as number;
    let end = start;
    while (end < n && labels[byLabel[end] as number] === label) end++;
    const count = end - start;
    order.set(byLabel.subarray(start, end));
    torchStableSortRange(scores, order, 0, count);
    const kept = suppress(boxes, areas, order, count, iouThreshold, suppressed, keep);
    for (let k = 0; k < kept; k++) keepMask[keep[k] as number] = 1;
    start = end;
  }
  let m = 0;
  for (let i = 0; i < n; i++) if (keepMask[i] === 1) keep[m++] = i;
  const result = keep.slice(0, m);
  torchSortRange(scores, result, 0, m);
  return result;
}
