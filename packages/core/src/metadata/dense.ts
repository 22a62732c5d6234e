// The metadata of the dense tasks (issue 26): what an SSD detector needs beyond its raw head outputs (the anchors
// are rebuilt from these few numbers by core/detection's `defaultBoxes`, not stored as 3,234 x 4 floats) and what a
// segmenter says of its output. Written by the model builders, read (checked) by the sessions: nobody else parses it.
import { MobileNetError } from '../ir/errors.js';
import { describeValue } from './describe.js';
import { METADATA_KEYS } from './keys.js';

/** `mobilenet.detection`: an SSD head, its anchors and torchvision's postprocessing defaults. */
export interface DetectionMetadata {
  readonly kind: 'ssd';
  /** 'none': raw `bbox_regression` / `cls_logits`, decoded by the runtime; 'graph': `detection_*` outputs. */
  readonly postprocess: 'none' | 'graph';
  /** The network input, [height, width]. */
  readonly inputSize: readonly [number, number];
  readonly anchors: {
    readonly aspectRatios: readonly (readonly number[])[];
    readonly minRatio: number;
    readonly maxRatio: number;
    readonly clip: boolean;
  };
  /** Each feature map's [rows, columns], in the head's row order. */
  readonly grids: readonly (readonly [number, number])[];
  readonly boxCoderWeights: readonly [number, number, number, number];
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
  readonly topkCandidates: number;
  readonly maxDetections: number;
}

/** `mobilenet.segmentation`: a per-pixel classifier whose `output` is [N, classes, H, W] at the input size. */
export interface SegmentationMetadata {
  readonly kind: 'segmentation';
  readonly inputSize: readonly [number, number];
  readonly output: string;
}

const fail = (where: string, expected: string, received: unknown): never => {
  throw new MobileNetError('metadata', where, expected, describeValue(received));
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function numberIn(v: unknown, where: string, lo: number, hi: number): number {
  return typeof v === 'number' && v >= lo && v <= hi ? v : fail(where, `a number from ${lo} to ${hi}`, v);
}

function count(v: unknown, where: string, max: number): number {
  return Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= max
    ? (v as number)
    : fail(where, `an integer from 1 to ${max}`, v);
}

/** [a, b] of integers from 1 to `max`. */
function pair(v: unknown, where: string, max: number): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) return fail(where, '[height, width]', v);
  return [count(v[0], `${where}[0]`, max), count(v[1], `${where}[1]`, max)];
}

/** Largest side and most feature maps accepted: far above SSD's (320, 6), far below exhausting memory. */
const MAX_SIDE = 4096;
const MAX_MAPS = 16;

function parse(metadata: Readonly<Record<string, string>>, key: string, where: string): unknown {
  const raw = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return fail(where, 'JSON', `${raw.length} characters that do not parse`);
  }
}

function anchorsOf(v: unknown, where: string): DetectionMetadata['anchors'] {
  if (!isObject(v)) return fail(where, 'an object {aspectRatios, minRatio, maxRatio, clip}', v);
  const ratios = v.aspectRatios;
  if (!Array.isArray(ratios) || ratios.length < 1 || ratios.length > MAX_MAPS)
    return fail(`${where}.aspectRatios`, `a list of 1 to ${MAX_MAPS} lists (one per feature map)`, ratios);
  const aspectRatios = ratios.map((r, i) =>
    Array.isArray(r) && r.length <= 8 && r.every((x) => typeof x === 'number' && x > 0 && x <= 100)
      ? (r as number[])
      : fail(`${where}.aspectRatios[${i}]`, 'up to 8 numbers in (0, 100]', r),
  );
  const minRatio = numberIn(v.minRatio, `${where}.minRatio`, 0, 1);
  const maxRatio = numberIn(v.maxRatio, `${where}.maxRatio`, minRatio, 1);
  if (typeof v.clip !== 'boolean') fail(`${where}.clip`, 'true or false', v.clip);
  return { aspectRatios, minRatio, maxRatio, clip: v.clip as boolean };
}

/** The detection metadata of a model, checked; undefined when it has none. `model` names it in messages. */
export function readDetectionMetadata(
  metadata: Readonly<Record<string, string>>,
  model: string,
): DetectionMetadata | undefined {
  const where = `${model}: metadata '${METADATA_KEYS.detection}'`;
  const v = parse(metadata, METADATA_KEYS.detection, where);
  if (v === undefined) return undefined;
  if (!isObject(v) || v.kind !== 'ssd') return fail(where, "an object with kind 'ssd'", isObject(v) ? v.kind : v);
  if (v.postprocess !== 'none' && v.postprocess !== 'graph')
    fail(`${where}.postprocess`, "'none' or 'graph'", v.postprocess);
  const anchors = anchorsOf(v.anchors, `${where}.anchors`);
  const grids = Array.isArray(v.grids) ? v.grids : fail(`${where}.grids`, 'a list of [rows, columns]', v.grids);
  if (grids.length !== anchors.aspectRatios.length)
    fail(`${where}.grids`, `${anchors.aspectRatios.length} maps (one per aspect-ratio list)`, grids);
  const w = v.boxCoderWeights;
  if (!Array.isArray(w) || w.length !== 4 || !w.every((x) => typeof x === 'number' && x > 0 && Number.isFinite(x)))
    fail(`${where}.boxCoderWeights`, '4 positive numbers', w);
  return {
    kind: 'ssd',
    postprocess: v.postprocess as DetectionMetadata['postprocess'],
    inputSize: pair(v.inputSize, `${where}.inputSize`, MAX_SIDE),
    anchors,
    grids: grids.map((g, i) => pair(g, `${where}.grids[${i}]`, MAX_SIDE)),
    boxCoderWeights: w as unknown as DetectionMetadata['boxCoderWeights'],
    scoreThreshold: numberIn(v.scoreThreshold, `${where}.scoreThreshold`, 0, 1),
    iouThreshold: numberIn(v.iouThreshold, `${where}.iouThreshold`, 0, 1),
    topkCandidates: count(v.topkCandidates, `${where}.topkCandidates`, 1_000_000),
    maxDetections: count(v.maxDetections, `${where}.maxDetections`, 1_000_000),
  };
}

/** The segmentation metadata of a model, checked; undefined when it has none. */
export function readSegmentationMetadata(
  metadata: Readonly<Record<string, string>>,
  model: string,
): SegmentationMetadata | undefined {
  const where = `${model}: metadata '${METADATA_KEYS.segmentation}'`;
  const v = parse(metadata, METADATA_KEYS.segmentation, where);
  if (v === undefined) return undefined;
  if (!isObject(v) || v.kind !== 'segmentation')
    return fail(where, "an object with kind 'segmentation'", isObject(v) ? v.kind : v);
  const output =
    typeof v.output === 'string' && v.output !== '' ? v.output : fail(`${where}.output`, 'a name', v.output);
  return { kind: 'segmentation', inputSize: pair(v.inputSize, `${where}.inputSize`, MAX_SIDE), output };
}

/** The metadata entry of a detector (what a builder merges into its graph's metadata). */
export const detectionMetadata = (d: DetectionMetadata): Record<string, string> => ({
  [METADATA_KEYS.detection]: JSON.stringify(d),
});

/** The metadata entry of a segmenter. */
export const segmentationMetadata = (s: SegmentationMetadata): Record<string, string> => ({
  [METADATA_KEYS.segmentation]: JSON.stringify(s),
});
