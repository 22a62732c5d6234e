/**
 * SSD's detections from its raw head outputs, as torchvision 0.14 computes them in eval mode:
 * `SSD.postprocess_detections` (torchvision/models/detection/ssd.py, lines 412-461: softmax over the classes, decode
 * against the anchors, clip to the network input, per class (background excluded) keep scores > threshold and the
 * top k, batched NMS, keep the first `detections_per_img`), then `GeneralizedRCNNTransform.postprocess` /
 * `resize_boxes` (torchvision/models/detection/transform.py, lines 247-267 and 296-309: boxes scaled from the
 * network input back to the original image). Equal scores are ordered as torch orders them (torch-order.ts).
 */
import { MobileNetError, ShapeError } from '../ir/errors.js';
import { clipBoxes, decodeBoxes, SSD_BOX_CODER_WEIGHTS } from './box-coder.js';
import { batchedNms } from './nms.js';
import { torchTopk } from './torch-order.js';

const f = Math.fround;

/** torchvision's ssdlite320_mobilenet_v3_large defaults (ssdlite.py, `defaults`). */
export const SSD_SCORE_THRESHOLD = 0.001;
export const SSD_IOU_THRESHOLD = 0.55;
export const SSD_TOPK_CANDIDATES = 300;
export const SSD_MAX_DETECTIONS = 300;

export interface DetectionOptions {
  /** Keep a (box, class) only when its softmax score is > this; in [0, 1], default 0.001. */
  scoreThreshold?: number;
  /** Suppress a box whose IoU with a better box of its class is > this; in [0, 1], default 0.55. */
  iouThreshold?: number;
  /** Per class, only the best this many boxes go to NMS; a positive integer, default 300. */
  topkCandidates?: number;
  /** At most this many detections per image; a positive integer, default 300. */
  maxDetections?: number;
}

export interface DetectionLayout {
  /** Anchors as x1, y1, x2, y2 in network-input pixels (anchors.ts), one per head row. */
  anchors: Float32Array;
  /** Classes per head row, background (label 0) included: 91 for COCO. */
  numClasses: number;
  /** The network input the anchors refer to, [height, width]: [320, 320] for SSDLite320. */
  inputSize: readonly [number, number];
  /** Box coder weights; SSD's (10, 10, 5, 5) by default. */
  boxCoderWeights?: readonly [number, number, number, number];
}

/** One image's detections, best first: boxes as x1, y1, x2, y2 in original-image pixels. */
export interface Detections {
  boxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
}

/** The options with torchvision's defaults filled in; a value out of range is a usage error naming the option. */
export function resolveDetectionOptions(options: DetectionOptions = {}): Required<DetectionOptions> {
  const unit = (name: keyof DetectionOptions, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new MobileNetError('usage', `option ${name}`, 'a number in [0, 1]', String(value));
    }
    return value;
  };
  const count = (name: keyof DetectionOptions, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new MobileNetError('usage', `option ${name}`, 'a positive integer', String(value));
    }
    return value;
  };
  return {
    scoreThreshold: unit('scoreThreshold', options.scoreThreshold, SSD_SCORE_THRESHOLD),
    iouThreshold: unit('iouThreshold', options.iouThreshold, SSD_IOU_THRESHOLD),
    topkCandidates: count('topkCandidates', options.topkCandidates, SSD_TOPK_CANDIDATES),
    maxDetections: count('maxDetections', options.maxDetections, SSD_MAX_DETECTIONS),
  };
}

/**
 * `F.softmax(logits, dim=-1)` over rows of `classes`, in float32 (into `out`, which may be `logits`). A row with a
 * NaN or +Infinity gives NaN everywhere in that row, as in torch. The sum is accumulated in float64, so a score
 * may differ from torch's by an ulp.
 */
export function softmaxRows(
  logits: Float32Array,
  classes: number,
  out: Float32Array = new Float32Array(logits.length),
): Float32Array {
  for (let r = 0; r + classes <= logits.length; r += classes) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = r; c < r + classes; c++) {
      const v = logits[c] as number;
      if (Number.isNaN(v)) {
        max = Number.NaN;
        break;
      }
      if (v > max) max = v;
    }
    let sum = 0;
    for (let c = r; c < r + classes; c++) {
      const e = f(Math.exp(f((logits[c] as number) - max)));
      out[c] = e;
      sum += e;
    }
    const inv = f(1 / f(sum));
    for (let c = r; c < r + classes; c++) out[c] = (out[c] as number) * inv;
  }
  return out;
}

/** Checks that the head outputs and the anchors describe the same number of boxes. */
function checkShapes(bboxRegression: Float32Array, clsLogits: Float32Array, layout: DetectionLayout): number {
  const n = layout.anchors.length / 4;
  if (!Number.isInteger(n)) {
    throw new ShapeError('detection anchors', 'a multiple of 4 values (x1, y1, x2, y2)', `${layout.anchors.length}`);
  }
  if (bboxRegression.length !== n * 4) {
    throw new ShapeError(
      'bbox_regression',
      `${n} x 4 = ${n * 4} values (one row per anchor)`,
      `${bboxRegression.length}`,
    );
  }
  if (!Number.isSafeInteger(layout.numClasses) || layout.numClasses < 2 || clsLogits.length !== n * layout.numClasses) {
    throw new ShapeError(
      'cls_logits',
      `${n} x ${layout.numClasses} = ${n * layout.numClasses} values (one row per anchor)`,
      `${clsLogits.length}`,
    );
  }
  return n;
}

/**
 * One image's detections from SSD's raw head outputs (`bbox_regression` [anchors, 4] and `cls_logits`
 * [anchors, classes], flat), mapped to an image of `originalSize` ([height, width]).
 */
export function postprocessDetections(
  bboxRegression: Float32Array,
  clsLogits: Float32Array,
  layout: DetectionLayout,
  originalSize: readonly [number, number],
  options: DetectionOptions = {},
): Detections {
  const { scoreThreshold, iouThreshold, topkCandidates, maxDetections } = resolveDetectionOptions(options);
  const n = checkShapes(bboxRegression, clsLogits, layout);
  for (const [name, size] of [
    ['originalSize', originalSize],
    ['inputSize', layout.inputSize],
  ] as const) {
    if (!(size[0] > 0 && size[1] > 0 && Number.isFinite(size[0]) && Number.isFinite(size[1]))) {
      throw new MobileNetError('usage', name, '[height, width] in pixels, both positive', `[${size.join(', ')}]`);
    }
  }
  const classes = layout.numClasses;
  const [inputH, inputW] = layout.inputSize;

  const scores = softmaxRows(clsLogits, classes);
  const boxes = decodeBoxes(bboxRegression, layout.anchors, layout.boxCoderWeights ?? SSD_BOX_CODER_WEIGHTS);
  clipBoxes(boxes, inputH, inputW);

  // Per class: the anchors whose score passes, in anchor order, then torch's topk among them.
  const capacity = (classes - 1) * Math.min(topkCandidates, n);
  const candBoxes = new Float32Array(capacity * 4);
  const candScores = new Float32Array(capacity);
  const candLabels = new Int32Array(capacity);
  const classScores = new Float32Array(n);
  const order = new Int32Array(n);
  let m = 0;
  for (let label = 1; label < classes; label++) {
    let count = 0;
    for (let a = 0; a < n; a++) {
      const s = scores[a * classes + label] as number;
      classScores[a] = s;
      if (s > scoreThreshold) order[count++] = a;
    }
    const k = Math.min(topkCandidates, count);
    torchTopk(classScores, order, count, k);
    for (let t = 0; t < k; t++) {
      const a = order[t] as number;
      for (let c = 0; c < 4; c++) candBoxes[m * 4 + c] = boxes[a * 4 + c] as number;
      candScores[m] = classScores[a] as number;
      candLabels[m] = label;
      m++;
    }
  }

  const keep = batchedNms(
    candBoxes.subarray(0, m * 4),
    candScores.subarray(0, m),
    candLabels.subarray(0, m),
    iouThreshold,
  );
  const kept = Math.min(keep.length, maxDetections);
  const ratioW = f(f(originalSize[1]) / f(inputW));
  const ratioH = f(f(originalSize[0]) / f(inputH));
  const out: Detections = {
    boxes: new Float32Array(kept * 4),
    scores: new Float32Array(kept),
    labels: new Int32Array(kept),
  };
  for (let i = 0; i < kept; i++) {
    const c = keep[i] as number;
    out.boxes[i * 4] = (candBoxes[c * 4] as number) * ratioW;
    out.boxes[i * 4 + 1] = (candBoxes[c * 4 + 1] as number) * ratioH;
    out.boxes[i * 4 + 2] = (candBoxes[c * 4 + 2] as number) * ratioW;
    out.boxes[i * 4 + 3] = (candBoxes[c * 4 + 3] as number) * ratioH;
    out.scores[i] = candScores[c] as number;
    out.labels[i] = candLabels[c] as number;
  }
  return out;
}
