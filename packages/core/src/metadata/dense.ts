// The metadata of detection and segmentation models (issue 26): what a runtime needs to turn their raw outputs into
// boxes or masks. Written by models/ (ssdlite.ts, segmentation.ts), read back here with every field checked: a file
// that is not ours, or was edited, may carry anything under these keys.
import { MobileNetError } from '../ir/errors.js';
import { describeValue } from './describe.js';
import { METADATA_KEYS } from './keys.js';

/** SSD's anchors as torchvision's `DefaultBoxGenerator` takes them; the runtime rebuilds the boxes from these. */
export interface AnchorRecord {
  /** Per feature map, the aspect ratios beyond 1 (each adds two boxes per location): SSDLite's [2, 3] x 6. */
  readonly aspectRatios: readonly (readonly number[])[];
  /** The smallest and largest box scale, as fractions of the input (0.2 and 0.95). */
  readonly minRatio: number;
  readonly maxRatio: number;
  /** Whether box widths and heights are clipped to [0, 1] of the input. */
  readonly clip: boolean;
}

/** `mobilenet.detection`: an SSD's raw outputs and torchvision's postprocessing defaults. */
export interface DetectionMetadata {
  /** The detector family: 'ssd' (SSDLite320). */
  readonly kind: 'ssd';
  /** 'none': the file ends at `bbox_regression` / `cls_logits`; 'graph': decode and NMS are in the file. */
  readonly postprocess: 'none' | 'graph';
  /** [height, width] of the network input. */
  readonly inputSize: readonly [number, number];
  /** How `defaultBoxes` rebuilds the anchors (one per output row, torchvision's order). */
  readonly anchors: AnchorRecord;
  /** [height, width] of each feature map the heads read, in the outputs' row order. */
  readonly grids: readonly (readonly [number, number])[];
  /** The box coder's (wx, wy, ww, wh): SSD's (10, 10, 5, 5). */
  readonly boxCoderWeights: readonly [number, number, number, number];
  /** torchvision's postprocessing defaults: score > 0.001 per class, NMS at IoU 0.55, top 300 per class, keep 300. */
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
  readonly topkCandidates: number;
  readonly maxDetections: number;
}

/** `mobilenet.segmentation`: which output holds the per-class logits at the input size. */
export interface SegmentationMetadata {
  readonly kind: 'segmentation';
  /** [height, width] of the network input and of its logits. */
  readonly inputSize: readonly [number, number];
  /** The output of per-class logits [N, classes, H, W]: 'out'. */
  readonly output: string;
  /** Whether the file also outputs the auxiliary head's logits ('aux'). */
  readonly aux?: boolean;
}

/** The metadata entry of a detection model. */
export function detectionMetadata(record: DetectionMetadata): Record<string, string> {
  return { [METADATA_KEYS.detection]: JSON.stringify(record) };
}

/** The metadata entry of a segmentation model. */
export function segmentationMetadata(record: SegmentationMetadata): Record<string, string> {
  return { [METADATA_KEYS.segmentation]: JSON.stringify(record) };
}

type Obj = Readonly<Record<string, unknown>>;

const fail = (where: string, expected: string, v: unknown): never => {
  throw new MobileNetError('metadata', where, expected, describeValue(v));
};

function object(v: unknown, where: string, expected: string): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : fail(where, expected, v);
}

function number(v: unknown, where: string, ok: (x: number) => boolean, rule: string): number {
  return typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fail(where, rule, v);
}

const positiveInt = (v: unknown, where: string) =>
  number(v, where, (x) => Number.isSafeInteger(x) && x >= 1, 'an integer >= 1');
const unit = (v: unknown, where: string) => number(v, where, (x) => x >= 0 && x <= 1, 'a number in [0, 1]');

function list(v: unknown, where: string, min: number, max: number): readonly unknown[] {
  return Array.isArray(v) && v.length >= min && v.length <= max ? v : fail(where, `a list of ${min} to ${max}`, v);
}

function size(v: unknown, where: string): [number, number] {
  const [h, w] = list(v, where, 2, 2);
  return [positiveInt(h, `${where}[0]`), positiveInt(w, `${where}[1]`)];
}

/** Parses a key's JSON, or says which file and key hold something else. */
function parsed(metadata: Readonly<Record<string, string>>, key: string, model: string): Obj | undefined {
  const raw = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (raw === undefined || raw === '') return undefined;
  const where = `${model}: metadata '${key}'`;
  try {
    return object(JSON.parse(raw), where, 'a JSON object');
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    throw new MobileNetError('metadata', where, 'a JSON object', `invalid JSON (${raw.length} characters)`);
  }
}

function anchors(v: unknown, where: string, maps: number): AnchorRecord {
  const o = object(v, where, 'an object {aspectRatios, minRatio, maxRatio, clip}');
  const ratios = list(o.aspectRatios, `${where}.aspectRatios`, maps, maps).map((r, k) =>
    list(r, `${where}.aspectRatios[${k}]`, 0, 16).map((a, i) =>
      number(a, `${where}.aspectRatios[${k}][${i}]`, (x) => x > 0, 'a number above 0'),
    ),
  );
  const minRatio = number(o.minRatio, `${where}.minRatio`, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  const maxRatio = number(o.maxRatio, `${where}.maxRatio`, (x) => x >= minRatio && x <= 1, `a number in [minRatio, 1]`);
  if (typeof o.clip !== 'boolean') fail(`${where}.clip`, 'true or false', o.clip);
  return { aspectRatios: ratios, minRatio, maxRatio, clip: o.clip as boolean };
}

/**
 * A model's `mobilenet.detection`, checked field by field; undefined when it has none (not a detector of ours).
 * `model` is how messages name the model, e.g. "model 'ssd.onnx'".
 */
export function readDetectionMetadata(
  metadata: Readonly<Record<string, string>>,
  model: string,
): DetectionMetadata | undefined {
  const o = parsed(metadata, METADATA_KEYS.detection, model);
  if (!o) return undefined;
  const where = `${model}: metadata '${METADATA_KEYS.detection}'`;
  if (o.kind !== 'ssd') fail(`${where}.kind`, "'ssd'", o.kind);
  if (o.postprocess !== 'none' && o.postprocess !== 'graph')
    fail(`${where}.postprocess`, "'none' or 'graph'", o.postprocess);
  const grids = list(o.grids, `${where}.grids`, 1, 32).map((g, k) => size(g, `${where}.grids[${k}]`));
  const weights = list(o.boxCoderWeights, `${where}.boxCoderWeights`, 4, 4).map((w, i) =>
    number(w, `${where}.boxCoderWeights[${i}]`, (x) => x > 0, 'a number above 0'),
  );
  return {
    kind: 'ssd',
    postprocess: o.postprocess as DetectionMetadata['postprocess'],
    inputSize: size(o.inputSize, `${where}.inputSize`),
    anchors: anchors(o.anchors, `${where}.anchors`, grids.length),
    grids,
    boxCoderWeights: weights as unknown as DetectionMetadata['boxCoderWeights'],
    scoreThreshold: unit(o.scoreThreshold, `${where}.scoreThreshold`),
    iouThreshold: unit(o.iouThreshold, `${where}.iouThreshold`),
    topkCandidates: positiveInt(o.topkCandidates, `${where}.topkCandidates`),
    maxDetections: positiveInt(o.maxDetections, `${where}.maxDetections`),
  };
}

/** A model's `mobilenet.segmentation`, checked; undefined when it has none. */
export function readSegmentationMetadata(
  metadata: Readonly<Record<string, string>>,
  model: string,
): SegmentationMetadata | undefined {
  const o = parsed(metadata, METADATA_KEYS.segmentation, model);
  if (!o) return undefined;
  const where = `${model}: metadata '${METADATA_KEYS.segmentation}'`;
  if (o.kind !== 'segmentation') fail(`${where}.kind`, "'segmentation'", o.kind);
  if (typeof o.output !== 'string' || o.output === '' || o.output.length > 256)
    fail(`${where}.output`, 'an output name', o.output);
  if (o.aux !== undefined && typeof o.aux !== 'boolean') fail(`${where}.aux`, 'true or false', o.aux);
  return {
    kind: 'segmentation',
    inputSize: size(o.inputSize, `${where}.inputSize`),
    output: o.output as string,
    ...(o.aux !== undefined && { aux: o.aux as boolean }),
  };
}
