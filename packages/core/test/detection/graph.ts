// Test helpers for SSD's postprocessing in the graph: a graph whose outputs are the raw heads (fed as inputs), and
// onnxruntime-node runs of the file with the postprocessing appended.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph } from '../../src/ir/graph.js';
import { clipBoxes, decodeBoxes } from '../../src/detection/box-coder.js';
import { nms } from '../../src/detection/nms.js';
import { softmaxRows } from '../../src/detection/postprocess.js';
import { torchTopk } from '../../src/detection/torch-order.js';

/** Inputs `head_boxes` [N, A, 4], `head_logits` [N, A, C]; outputs `bbox_regression`, `cls_logits` (Identity). */
export function rawHeadGraph(anchors: number, classes: number, batch: number | string = 'N'): Graph {
  const b = new GraphBuilder('ssd-raw-heads');
  const boxes = b.input('head_boxes', [batch, anchors, 4]);
  const logits = b.input('head_logits', [batch, anchors, classes]);
  b.output(b.node('Identity', 'bbox_regression', [boxes.name]));
  b.output(b.node('Identity', 'cls_logits', [logits.name]));
  return b.build();
}

export interface GraphDetections {
  boxes: Float32Array;
  scores: Float32Array;
  labels: BigInt64Array;
  count: BigInt64Array;
  /** D, the padded number of rows per image. */
  rows: number;
}

export interface RunOverrides {
  scoreThreshold?: number;
  iouThreshold?: number;
  maxDetections?: number;
}

/** Runs a postprocessing graph on N images' head outputs (concatenated) with the given thresholds. */
export async function runDetectionGraph(
  session: ort.InferenceSession,
  deltas: Float32Array,
  logits: Float32Array,
  dims: { n: number; anchors: number; classes: number },
  overrides: RunOverrides = {},
): Promise<GraphDetections> {
  const feeds: Record<string, ort.Tensor> = {
    head_boxes: new ort.Tensor('float32', deltas, [dims.n, dims.anchors, 4]),
    head_logits: new ort.Tensor('float32', logits, [dims.n, dims.anchors, dims.classes]),
  };
  // torchvision's defaults unless given.
  feeds.score_threshold = new ort.Tensor('float32', Float32Array.of(overrides.scoreThreshold ?? 0.001), [1]);
  feeds.iou_threshold = new ort.Tensor('float32', Float32Array.of(overrides.iouThreshold ?? 0.55), [1]);
  feeds.max_detections = new ort.Tensor('int64', BigInt64Array.of(BigInt(overrides.maxDetections ?? 300)), [1]);
  const out = await session.run(feeds);
  return {
    boxes: out.detection_boxes!.data as Float32Array,
    scores: out.detection_scores!.data as Float32Array,
    labels: out.detection_labels!.data as BigInt64Array,
    count: out.detection_count!.data as BigInt64Array,
    rows: out.detection_scores!.dims[1]!,
  };
}

/**
 * IoU of two x1 y1 x2 y2 boxes. Where it is undefined (two zero-area boxes, NaN coordinates) the boxes agree when
 * every coordinate does to 1e-3 px (NaN with NaN): 1, else 0.
 */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  const inter = Math.max(0, w) * Math.max(0, h);
  const area = (x: ArrayLike<number>) => (x[2]! - x[0]!) * (x[3]! - x[1]!);
  const union = area(a) + area(b) - inter;
  if (union > 0) return inter / union;
  const close = [0, 1, 2, 3].every((i) => Object.is(a[i], b[i]) || Math.abs(a[i]! - b[i]!) <= 1e-3);
  return close ? 1 : 0;
}

export interface ReferenceOptions {
  scoreThreshold: number;
  iouThreshold: number;
  topkCandidates: number;
  maxDetections: number;
  /** Equal scores in the per-class top-k: torch.topk's order, or the lower anchor first (ONNX TopK's rule). */
  ties: 'torch' | 'index';
}

/**
 * torchvision's postprocess_detections with batched_nms's per-class path (`_batched_nms_vanilla`) whatever the
 * candidate count, in network-input pixels, from core/detection's verified pieces; kept boxes sorted by score
 * with a stable sort (torch.sort's order wherever scores differ).
 */
export function perClassReference(
  deltas: Float32Array,
  logits: Float32Array,
  anchors: Float32Array,
  classes: number,
  inputSize: readonly [number, number],
  o: ReferenceOptions,
): { boxes: number[][]; scores: number[]; labels: number[] } {
  const n = anchors.length / 4;
  const scores = softmaxRows(logits, classes);
  const boxes = clipBoxes(decodeBoxes(deltas, anchors), inputSize[0], inputSize[1]);
  const kept: { box: number[]; score: number; label: number }[] = [];
  const classScores = new Float32Array(n);
  for (let label = 1; label < classes; label++) {
    const order: number[] = [];
    for (let a = 0; a < n; a++) {
      classScores[a] = scores[a * classes + label]!;
      if (classScores[a]! > o.scoreThreshold) order.push(a);
    }
    const k = Math.min(o.topkCandidates, order.length);
    let top: number[];
    if (o.ties === 'torch') {
      const idx = Int32Array.from(order);
      torchTopk(classScores, idx, idx.length, k);
      top = Array.from(idx.subarray(0, k));
    } else top = order.sort((x, y) => classScores[y]! - classScores[x]! || x - y).slice(0, k);
    const candBoxes = new Float32Array(top.length * 4);
    for (const [i, a] of top.entries()) candBoxes.set(boxes.subarray(a * 4, a * 4 + 4), i * 4);
    const candScores = Float32Array.from(top, (a) => classScores[a]!);
    for (const i of nms(candBoxes, candScores, o.iouThreshold))
      kept.push({ box: Array.from(candBoxes.subarray(i * 4, i * 4 + 4)), score: candScores[i]!, label });
  }
  const best = kept.sort((x, y) => y.score - x.score).slice(0, o.maxDetections);
  return { boxes: best.map((d) => d.box), scores: best.map((d) => d.score), labels: best.map((d) => d.label) };
}

export interface Comparison {
  /** Same count, and in every run of tied detections (below) the same labels, as a multiset. */
  labelsEqual: boolean;
  /** Smallest IoU of a detection with its expected box (within a run of ties: the best unmatched box of its label). */
  minIou: number;
  maxScoreError: number;
  /** The same over detections tied with no other. */
  minIouUntied: number;
}

type DetectionLists = { boxes: number[][]; scores: number[]; labels: number[] };

/**
 * Compares detections in order. A run of expected detections whose scores are within `tie` of the run's first
 * (equal scores by default; an ulp or two where two softmax implementations may order them differently) may come
 * in any order: inside it, each detection is matched to an unmatched expected one of its label.
 */
export function compareDetections(ours: DetectionLists, expected: DetectionLists, tie = 0): Comparison {
  const r: Comparison = {
    labelsEqual: ours.labels.length === expected.labels.length,
    minIou: 1,
    maxScoreError: 0,
    minIouUntied: 1,
  };
  const n = Math.min(ours.labels.length, expected.labels.length);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    const tied = (i: number) =>
      Math.abs(expected.scores[i]! - expected.scores[start]!) <= tie &&
      (tie > 0 || expected.labels[i] === expected.labels[start]);
    while (end < n && tied(end)) end++;
    const pool = Array.from({ length: end - start }, (_, j) => start + j);
    for (let i = start; i < end; i++) {
      r.maxScoreError = Math.max(r.maxScoreError, Math.abs(ours.scores[i]! - expected.scores[i]!));
      let best = -1;
      let bestIou = Number.NEGATIVE_INFINITY;
      for (const [j, e] of pool.entries()) {
        if (expected.labels[e] !== ours.labels[i]) continue;
        const v = iou(ours.boxes[i]!, expected.boxes[e]!);
        if (best < 0 || v > bestIou) [best, bestIou] = [j, v];
      }
      if (best < 0) {
        r.labelsEqual = false;
        continue;
      }
      r.minIou = Math.min(r.minIou, bestIou);
      if (end - start === 1) r.minIouUntied = Math.min(r.minIouUntied, bestIou);
      pool.splice(best, 1);
    }
    start = end;
  }
  return r;
}

/** One image's rows of a graph run as lists, the first `count` only, boxes scaled by (sx, sy) in float32. */
export function imageDetections(r: GraphDetections, image: number, sx = 1, sy = 1) {
  const f = Math.fround;
  const n = Number(r.count[image]);
  const o = image * r.rows;
  return {
    boxes: Array.from({ length: n }, (_, i) =>
      [0, 1, 2, 3].map((c) => f(r.boxes[(o + i) * 4 + c]! * (c & 1 ? sy : sx))),
    ),
    scores: Array.from(r.scores.subarray(o, o + n)),
    labels: Array.from(r.labels.subarray(o, o + n), Number),
  };
}
