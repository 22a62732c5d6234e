import type { ConfigRecord } from './config.js';
import { METADATA_KEYS } from './keys.js';
import { labelsMarker } from './labels.js';
import type { Preprocessing } from './preprocessing.js';

/**
 * The metadata every model we build carries, so that a consumer can feed and read it: what it is, how to
 * preprocess images for it, and which class names its count means (a marker; `withLabels` writes names).
 */
export function modelMetadata(config: ConfigRecord, preprocessing: Preprocessing): Record<string, string> {
  return {
    [METADATA_KEYS.config]: JSON.stringify(config),
    [METADATA_KEYS.preprocessing]: JSON.stringify(preprocessing),
    [METADATA_KEYS.labels]: labelsMarker(config.classes),
  };
}

/**
 * What trained weights add: their preprocessing (it may differ from the convention's), where they came from, and
 * their class names when the source gives its own.
 */
export function weightsMetadata(
  preprocessing: Preprocessing,
  record: object,
  labels?: readonly string[],
): Record<string, string> {
  return {
    [METADATA_KEYS.preprocessing]: JSON.stringify(preprocessing),
    [METADATA_KEYS.weights]: JSON.stringify(record),
    ...(labels && { [METADATA_KEYS.labels]: JSON.stringify(labels) }),
  };
}

/** What a precision pass adds: 'fp16', or 'int8' with how `quantize` made it. */
export function precisionMetadata(precision: 'fp16' | 'int8', int8?: object): Record<string, string> {
  return {
    [METADATA_KEYS.precision]: precision,
    ...(int8 && { [METADATA_KEYS.int8]: JSON.stringify(int8) }),
  };
}

/**
 * What the CLI's int8 export adds: the calibration it used and its self-check against float32.
 * @internal
 */
export function int8CheckMetadata(calibration: object, check: object): Record<string, string> {
  return {
    [METADATA_KEYS.calibration]: JSON.stringify(calibration),
    [METADATA_KEYS.int8Check]: JSON.stringify(check),
  };
}

/** What `fuseHead` adds: how the head was trained (base, images per class, validation accuracy, seed, options). */
export function trainingMetadata(record: object): Record<string, string> {
  return { [METADATA_KEYS.training]: JSON.stringify(record) };
}
