import { MobileNetError } from '../ir/errors.js';
import { int8TargetOf } from '../metadata/int8.js';
import {
  readDetectionMetadata,
  readSegmentationMetadata,
  type DetectionMetadata,
  type SegmentationMetadata,
} from '../metadata/dense.js';
import { LABELS_KEY } from '../metadata/keys.js';
import { checkLabels, metadataLabels, modelLabels } from '../metadata/labels.js';
import {
  type Preprocessing,
  checkPreprocessing,
  preprocessingWhere,
  readPreprocessing,
  torchvisionPreprocessing,
} from '../metadata/preprocessing.js';
import type { Graph } from '../ir/graph.js';
import type { ModelSummary } from '../onnx/summary.js';
import { type ClassifyOptions, type ClassifyResult, classifyTask } from '../tasks/classify.js';
import {
  type DetectOptions,
  type DetectResult,
  detectionInputs,
  detectionLabels,
  detectTask,
} from '../tasks/detect.js';
import type { EmbedResult } from '../tasks/embed.js';
import { type SegmentOptions, type SegmentResult, segmentationLabels, segmentTask } from '../tasks/segment.js';
import { taskOutputs } from '../tasks/registry.js';
import type { BackendName } from './backend.js';

/**
 * The runtime API shared by @mobilenet/runtime-node and @mobilenet/runtime-web: types and model facts only,
 * no runtime dependency. Each runtime package implements `MobileNetSession` over its onnxruntime.
 */
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** A backend the runtime package registered (its `availableBackends()` lists them); default 'cpu' (Node) or 'wasm' (browser). */
  readonly backend?: BackendName;
  /** If the backend fails to start, fall back to the default one and report why in `fallbackReason`. */
  readonly fallback?: boolean;
  /**
   * Threads one inference may use: onnxruntime-node's intra-op threads, onnxruntime-web's WASM threads. Default:
   * the runtime's choice. onnxruntime-web fixes its count at a page's first session: the session reports the count in effect.
   */
  readonly threads?: number;
  /** Graph optimisation level; default 'all' ('basic' on WebGPU, where onnxruntime 1.30 fuses Conv-Clip-HardSwish wrongly at higher levels). */
  readonly graphOptimization?: GraphOptimization;
  /** Overrides the preprocessing read from the model's metadata. */
  readonly preprocessing?: Preprocessing;
  /** Overrides the class names (one per output logit); default: the model's metadata's, else ImageNet's for 1000 or 1001 classes. */
  readonly labels?: readonly string[];
  /** Largest input side a model may declare; default MAX_INPUT_SIZE (a 20k input would need gigabytes per image). */
  readonly maxInputSize?: number;
  /** Most classes a model may declare; default MAX_CLASSES. */
  readonly maxClasses?: number;
  /** What messages call a model given as bytes (its file, when the caller read it). Default 'model bytes'. */
  readonly name?: string;
  /** Accept a model file with ops off `MODEL_OPS` (control flow, custom domains): only for a model you trust. */
  readonly allowAnyOp?: boolean;
  /** Most nodes a model file may have; default MAX_NODES. */
  readonly maxNodes?: number;
}

/**
 * Default caps on what a model file may declare: far above any real classifier, far below exhausting memory.
 * @internal
 */
export const MAX_INPUT_SIZE = 4096;
export const MAX_CLASSES = 100_000;

export interface ModelInfo {
  readonly inputName: string;
  /** The classifier's logits; for a detector or a segmenter, the first output its task reads. */
  readonly outputName: string;
  /** Present when the model has an 'embedding' output (models exported with `embedding: true`). */
  readonly embeddingName?: string;
  /** The outputs each registered task reads in this model ('classify' -> ['logits'], ...): the tasks it can do. */
  readonly taskOutputs: Readonly<Record<string, readonly string[]>>;
  /** A detector's anchors and defaults (metadata 'mobilenet.detection'), when it can detect. */
  readonly detection?: DetectionMetadata;
  /** A segmenter's facts (metadata 'mobilenet.segmentation'), when it has them. */
  readonly segmentation?: SegmentationMetadata;
  readonly inputSize: number;
  readonly classes: number;
  readonly labels: readonly string[];
  readonly preprocessing: Preprocessing;
  /** Where the preprocessing came from: the model's metadata, or torchvision's defaults for a foreign model. */
  readonly preprocessingSource: 'metadata' | 'default' | 'option';
  /** An int8 file's kernel target (metadata 'mobilenet.int8'): 'vnni' files saturate on AVX2 without VNNI. */
  readonly int8Target?: 'portable' | 'vnni';
}

export interface MobileNetSession<Image> {
  /** The backend actually running the model. */
  readonly backend: BackendName;
  readonly requestedBackend: BackendName;
  /** Set when the requested backend failed and `fallback` chose another. */
  readonly fallbackReason?: string;
  readonly info: ModelInfo;
  /** Top-k classes per image; one bad image is reported by name and does not lose the others' results. */
  classify(images: readonly Image[], options?: ClassifyOptions): Promise<ClassifyResult[]>;
  /** The pooled feature vector per image (the model's 'embedding' output). */
  embed(images: readonly Image[]): Promise<EmbedResult[]>;
  /** SSD's boxes per image in its own pixels, best first (a detector: ssdlite320-v3-large). */
  detect(images: readonly Image[], options?: DetectOptions): Promise<DetectResult[]>;
  /** A class per pixel per image at its own size (a segmenter: lraspp-v3-large, deeplabv3-v3-large). */
  segment(images: readonly Image[], options?: SegmentOptions): Promise<SegmentResult[]>;
  /** Raw logits for a preprocessed [batch, 3, size, size] tensor. */
  logits(input: Float32Array, batch: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** What a runtime reads of a model: its inputs, outputs and metadata (from a file's summary, or from the graph). */
export type ModelIO = Pick<ModelSummary, 'inputs' | 'outputs' | 'metadata'>;

/** The same facts read straight from a graph, for a model built in memory (no need to decode its bytes again). */
export function graphIO(graph: Graph): ModelIO {
  const io = (vs: Graph['inputs']) => vs.map((v) => ({ name: v.name, shape: [...v.type.shape] }));
  return { inputs: io(graph.inputs), outputs: io(graph.outputs), metadata: graph.metadata };
}

/**
 * What a runtime needs to feed and read a model, from its ONNX summary: the input must be [N, 3, H, H]; the
 * preprocessing comes from our metadata, else torchvision's (ImageNet mean/std, resize H/0.875, crop H).
 * @internal
 */
export function modelInfo(summary: ModelIO, source: string, options: SessionOptions = {}): ModelInfo {
  const input = summary.inputs[0];
  const shape = input?.shape ?? [];
  const [, c, h, w] = shape;
  const fed = detectionInputs(summary.metadata);
  const others = summary.inputs.slice(1).every((i) => fed.includes(i.name));
  if (!input || !others || shape.length !== 4 || c !== 3 || typeof h !== 'number' || h !== w) {
    const got = summary.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ');
    throw new MobileNetError(
      'model-input',
      `model '${source}'`,
      'one image input of shape [N, 3, H, H] with a fixed H',
      got || 'no inputs',
    );
  }
  const maxSize = options.maxInputSize ?? MAX_INPUT_SIZE;
  if (!Number.isSafeInteger(h) || h < 1 || h > maxSize) {
    throw new MobileNetError(
      'model-input',
      `model '${source}': input '${input!.name}'`,
      `an input size from 1 to ${maxSize} (option maxInputSize raises the cap)`,
      `${h}`,
    );
  }
  const outputs = taskOutputs(summary.outputs, summary.metadata);
  const { output, classes, defaultLabels } = classesOf(summary, outputs, source);
  const maxClasses = options.maxClasses ?? MAX_CLASSES;
  if (!Number.isSafeInteger(classes) || classes < 1 || classes > maxClasses) {
    throw new MobileNetError(
      'model-output',
      `model '${source}': output '${output}'`,
      `from 1 to ${maxClasses} classes (option maxClasses raises the cap)`,
      `${classes}`,
    );
  }
  const meta = options.preprocessing ? undefined : readPreprocessing(summary.metadata, `model '${source}'`);
  const preprocessing = options.preprocessing
    ? checkPreprocessing(options.preprocessing, 'option preprocessing')
    : (meta ?? torchvisionPreprocessing(h));
  // Given names first, then what the file's metadata says (its own, else ImageNet's for 1000 or 1001 classes).
  const labels = options.labels
    ? checkLabels(options.labels, classes, 'option labels')
    : (defaultLabels?.(metadataLabels(summary.metadata, classes, source)) ??
      modelLabels(summary.metadata, classes, source));
  if (preprocessing.size !== h) {
    const where = options.preprocessing
      ? 'option preprocessing.size'
      : `${preprocessingWhere(`model '${source}'`)}.size`;
    throw new MobileNetError('preprocessing', where, `${h} (the model's input size)`, `${preprocessing.size}`);
  }
  const detection = readDetectionMetadata(summary.metadata, `model '${source}'`);
  const segmentation = readSegmentationMetadata(summary.metadata, `model '${source}'`);
  const int8Target = int8TargetOf(summary.metadata);
  return {
    ...(int8Target && { int8Target }),
    inputName: input!.name,
    outputName: output,
    ...(outputs.embed !== undefined && { embeddingName: outputs.embed[0]! }),
    taskOutputs: outputs,
    inputSize: h,
    classes,
    labels,
    preprocessing,
    preprocessingSource: options.preprocessing ? 'option' : meta ? 'metadata' : 'default',
    ...(detection && outputs.detect && { detection }),
    ...(segmentation && outputs.segment && { segmentation }),
  };
}

/**
 * The model's main output and its class count: a classifier's logits [N, classes], else a detector's
 * `cls_logits` [N, anchors, classes] (or, for one that ends in NMS, its labels' count), else a segmenter's
 * `out` [N, classes, H, W]. `defaultLabels` gives a dense model's built-in names (COCO's 91, VOC's 21) when its
 * metadata names none.
 */
function classesOf(
  summary: ModelIO,
  outputs: Readonly<Record<string, readonly string[]>>,
  source: string,
): {
  output: string;
  classes: number;
  defaultLabels?: (own: readonly string[] | undefined) => readonly string[] | undefined;
} {
  const shapeOf = (name: string) => summary.outputs.find((o) => o.name === name)!.shape;
  const refuse = (): never => {
    const got = summary.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
    throw new MobileNetError(
      'model-output',
      `model '${source}'`,
      `${classifyTask.needs}; or ${detectTask.needs}; or ${segmentTask.needs}`,
      got || 'no outputs',
    );
  };
  const [logits] = outputs.classify ?? [];
  if (logits !== undefined) {
    const shape = shapeOf(logits);
    return shape.length === 2 && typeof shape[1] === 'number' ? { output: logits, classes: shape[1] } : refuse();
  }
  const detect = outputs.detect;
  if (detect) {
    const classes = detect.length === 2 ? shapeOf(detect[1]!)[2] : labelCount(summary.metadata);
    if (typeof classes !== 'number') return refuse();
    return { output: detect[0]!, classes, defaultLabels: (own) => own ?? detectionLabels(classes) };
  }
  const [out] = outputs.segment ?? [];
  if (out === undefined) return refuse();
  const classes = shapeOf(out)[1];
  if (typeof classes !== 'number') return refuse();
  return { output: out, classes, defaultLabels: (own) => own ?? segmentationLabels(classes) };
}

/** How many names the metadata's labels hold (a detector ending in NMS has no output that says its classes). */
function labelCount(metadata: Readonly<Record<string, string>>): number | undefined {
  try {
    const v: unknown = JSON.parse(metadata[LABELS_KEY] ?? '');
    return Array.isArray(v) ? v.length : undefined;
  } catch {
    return undefined;
  }
}
