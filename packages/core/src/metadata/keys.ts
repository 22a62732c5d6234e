/**
 * Every metadata key mobilenet-ts writes into an ONNX file. Values are strings; most are JSON. A file that is not
 * ours, or was edited, may carry anything under them: read them through this module's readers, which check.
 */
export const METADATA_KEYS = {
  /** What the model is (JSON object: arch, width, resolution, classes, convention, ..., weights). */
  config: 'mobilenet.config',
  /** How an image becomes its input (JSON `Preprocessing`). */
  preprocessing: 'mobilenet.preprocessing',
  /** Its class names: a JSON array of strings, or one of the markers 'imagenet-1000', 'imagenet-1001', 'custom'. */
  labels: 'mobilenet.labels',
  /** Where trained weights came from (JSON: name, url, sha256, license, categories). */
  weights: 'mobilenet.weights',
  /** 'int8' or 'fp16' when a pass lowered the precision; absent for float32. */
  precision: 'mobilenet.precision',
  /** How `quantize` made an int8 file (JSON, its `target` included). */
  int8: 'mobilenet.int8',
  /** The calibration of an int8 file (JSON: method, percentile, images). */
  calibration: 'mobilenet.calibration',
  /** The export's self-check of an int8 file against its float32 model (JSON). */
  int8Check: 'mobilenet.int8.check',
  /** A detector's raw outputs, anchors and postprocessing defaults (JSON `DetectionMetadata`). */
  detection: 'mobilenet.detection',
  /** A segmenter's logits output and input size (JSON `SegmentationMetadata`). */
  segmentation: 'mobilenet.segmentation',
  /** How a head trained on its embeddings was made (JSON: base, images per class, val accuracy, seed, head options). */
  training: 'mobilenet.training',
} as const;

/** The metadata key of a model's class names (`METADATA_KEYS.labels`). */
export const LABELS_KEY = METADATA_KEYS.labels;

/** The output names our builder gives: class scores, the pooled feature vector, and the last map without a top. */
export const OUTPUT_NAMES = { logits: 'logits', embedding: 'embedding', features: 'features' } as const;

/** The output that carries the class scores: the one named 'logits', else the first (a foreign classifier's). */
export function logitsOutput<T extends { readonly name: string }>(outputs: readonly T[]): T | undefined {
  return outputs.find((o) => o.name === OUTPUT_NAMES.logits) ?? outputs[0];
}

/** The pooled feature vector output ('embedding'), when the model has one. */
export function embeddingOutputOf<T extends { readonly name: string }>(outputs: readonly T[]): T | undefined {
  return outputs.find((o) => o.name === OUTPUT_NAMES.embedding);
}
