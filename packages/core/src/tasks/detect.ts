// Detection (issue 26): SSD's outputs into boxes in the image's own pixels. Two kinds of model file: raw head
// outputs (`bbox_regression`, `cls_logits`; anchors rebuilt from metadata, torchvision's postprocessing in
// core/detection) or a graph that ends in its own NMS (`detection_*`, boxes in network-input pixels).
import { defaultBoxes, defaultBoxesPerLocation } from '../detection/anchors.js';
import { type DetectionOptions, postprocessDetections, resolveDetectionOptions } from '../detection/postprocess.js';
import { COCO_CATEGORIES } from '../detection/categories.js';
import { MobileNetError } from '../ir/errors.js';
import { type DetectionMetadata, readDetectionMetadata } from '../metadata/dense.js';
import type { ExtraFeed, ModelOutput, SourceImage, Task, TaskModel, TaskResult } from './task.js';

/** Thresholds at run time; unset ones take the model's metadata (torchvision's defaults). */
export type DetectOptions = Pick<DetectionOptions, 'scoreThreshold' | 'iouThreshold' | 'maxDetections'> & {
  /** Raw outputs only: per class, the best this many boxes go to NMS (default 300). */
  readonly topkCandidates?: number;
};

/** One box: x1, y1, x2, y2 in the original image's pixels. */
export interface Detection {
  readonly box: readonly [number, number, number, number];
  readonly label: string;
  /** The class index in the model's labels (0 is the background, never given). */
  readonly labelIndex: number;
  readonly score: number;
}

export type DetectFields = { readonly detections: readonly Detection[] };

/** One image's detections, best first, in its own pixels. */
export type DetectResult = TaskResult<DetectFields>;

/** The output names of the contract (docs/design.md, issue 26). */
export const RAW_DETECTION_OUTPUTS = ['bbox_regression', 'cls_logits'] as const;
export const GRAPH_DETECTION_OUTPUTS = [
  'detection_boxes',
  'detection_scores',
  'detection_labels',
  'detection_count',
] as const;
/** The graph's run-time inputs and their types. */
const GRAPH_FEEDS = {
  scoreThreshold: 'score_threshold',
  iouThreshold: 'iou_threshold',
  maxDetections: 'max_detections',
};

/**
 * The inputs a model of `metadata` takes beside the image: a detector ending in NMS reads its thresholds at run time
 * (fed on every run, with the metadata's defaults when the caller sets none).
 */
export function detectionInputs(metadata: Readonly<Record<string, string>>): readonly string[] {
  return readDetectionMetadata(metadata, 'model')?.postprocess === 'graph' ? Object.values(GRAPH_FEEDS) : [];
}

const NEEDS =
  "SSD outputs: 'bbox_regression' and 'cls_logits' with metadata 'mobilenet.detection' (mobilenet export of " +
  "ssdlite320-v3-large), or 'detection_boxes', 'detection_scores', 'detection_labels', 'detection_count' " +
  '(--postprocess graph)';

const find = (outputs: readonly ModelOutput[], names: readonly string[]) => {
  const found = names.map((n) => outputs.find((o) => o.name === n));
  return found.every((o) => o !== undefined) ? (found as ModelOutput[]) : undefined;
};

/** How many anchors the metadata's generator makes: the raw outputs must have one row each. */
function anchorCount(d: DetectionMetadata): number {
  const per = defaultBoxesPerLocation(d.anchors);
  return d.grids.reduce((n, [h, w], k) => n + h * w * (per[k] as number), 0);
}

function rawOutputs(outputs: readonly ModelOutput[], d: DetectionMetadata | undefined): ModelOutput[] | undefined {
  const raw = find(outputs, RAW_DETECTION_OUTPUTS);
  if (!raw || !d) return undefined;
  const rows = raw[0]!.shape[1];
  const anchors = anchorCount(d);
  // Checked before any anchor is built: hostile metadata could otherwise ask for billions of them.
  if (rows !== anchors)
    throw new MobileNetError(
      'model-output',
      "model output 'bbox_regression'",
      `${anchors} rows (the anchors metadata 'mobilenet.detection' describes)`,
      `${rows}`,
    );
  return raw;
}

// Anchors per model, rebuilt once: the metadata object lives as long as the session's facts.
const anchorCache = new WeakMap<DetectionMetadata, Float32Array>();
function anchorsOf(d: DetectionMetadata): Float32Array {
  let a = anchorCache.get(d);
  if (!a) anchorCache.set(d, (a = defaultBoxes(d.anchors, d.grids, d.inputSize)));
  return a;
}

/** The options with the model's defaults under them, checked (a threshold outside [0, 1] is a usage error). */
export function detectOptions(options: DetectOptions, d?: DetectionMetadata): Required<DetectOptions> {
  return resolveDetectionOptions({
    scoreThreshold: options.scoreThreshold ?? d?.scoreThreshold,
    iouThreshold: options.iouThreshold ?? d?.iouThreshold,
    maxDetections: options.maxDetections ?? d?.maxDetections,
    topkCandidates: options.topkCandidates ?? d?.topkCandidates,
  } as DetectionOptions);
}

const metadataOf = (model: TaskModel): DetectionMetadata => {
  if (model.detection) return model.detection;
  throw new MobileNetError('model-output', 'model', "metadata 'mobilenet.detection'", 'none');
};

function fromRaw(rows: readonly Float32Array[], model: TaskModel, options: DetectOptions, image: SourceImage) {
  const d = metadataOf(model);
  const anchors = anchorsOf(d);
  const classes = rows[1]!.length / (anchors.length / 4);
  const found = postprocessDetections(
    rows[0]!,
    rows[1]!,
    { anchors, numClasses: classes, inputSize: d.inputSize, boxCoderWeights: d.boxCoderWeights },
    [image.height, image.width],
    detectOptions(options, d),
  );
  return listed(found.boxes, found.scores, found.labels, found.scores.length, model.labels, 1, 1);
}

/** The graph's boxes are in network-input pixels: scaled as torchvision's `resize_boxes` does (float32). */
function fromGraph(rows: readonly Float32Array[], model: TaskModel, image: SourceImage) {
  const [inputH, inputW] = metadataOf(model).inputSize;
  const f = Math.fround;
  const [boxes, scores, labels, count] = rows as [Float32Array, Float32Array, Float32Array, Float32Array];
  const n = Math.max(0, Math.min(scores.length, count[0]!));
  return listed(boxes, scores, labels, n, model.labels, f(f(image.width) / f(inputW)), f(f(image.height) / f(inputH)));
}

/** The kept boxes as the answer's objects (one per kept box, after NMS). */
function listed(
  boxes: Float32Array,
  scores: Float32Array,
  labels: ArrayLike<number>,
  n: number,
  names: readonly string[],
  sx: number,
  sy: number,
): Detection[] {
  const out: Detection[] = [];
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    const labelIndex = labels[i]!;
    const box = [
      f(boxes[4 * i]! * sx),
      f(boxes[4 * i + 1]! * sy),
      f(boxes[4 * i + 2]! * sx),
      f(boxes[4 * i + 3]! * sy),
    ];
    out.push({
      box: box as unknown as Detection['box'],
      label: names[labelIndex] ?? `class ${labelIndex}`,
      labelIndex,
      score: scores[i]!,
    });
  }
  return out;
}

const scalar = (type: 'float32' | 'int64', v: number): ExtraFeed =>
  type === 'float32'
    ? { type, data: new Float32Array([v]), dims: [1] }
    : { type, data: new BigInt64Array([BigInt(v)]), dims: [1] };

/** SSD detection: boxes, labels and scores per image, in its own pixels, best first. */
export const detectTask: Task<DetectOptions, DetectFields> = {
  name: 'detect',
  outputs(outputs, metadata) {
    const d = readDetectionMetadata(metadata, 'model');
    return rawOutputs(outputs, d) ?? (d ? find(outputs, GRAPH_DETECTION_OUTPUTS) : undefined);
  },
  needs: NEEDS,
  check: (options) => void detectOptions(options ?? {}),
  // A graph that ends in NMS reads its thresholds at run time (the contract's inputs, defaults in the file).
  feeds(options, model) {
    if (model.detection?.postprocess !== 'graph') return {};
    const o = detectOptions(options, model.detection);
    return {
      [GRAPH_FEEDS.scoreThreshold]: scalar('float32', o.scoreThreshold),
      [GRAPH_FEEDS.iouThreshold]: scalar('float32', o.iouThreshold),
      [GRAPH_FEEDS.maxDetections]: scalar('int64', o.maxDetections),
    };
  },
  // torchvision's NMS copes with NaN boxes and scores (hostile weights), and so does ours: no image is refused for them.
  nonFinite: 'accept',
  postprocess: (rows, model, options, image) =>
    ({
      detections: rows.length === 2 ? fromRaw(rows, model, options, image) : fromGraph(rows, model, image),
    }) satisfies DetectFields,
};

/** The built-in names for a model of 91 classes that names none (COCO_CATEGORIES), else undefined. */
export const detectionLabels = (classes: number): readonly string[] | undefined =>
  classes === COCO_CATEGORIES.length ? COCO_CATEGORIES : undefined;
