// Segmentation (issue 26): LRASPP / DeepLabV3's 'out' logits [C, R, R] into a class per pixel of the image, at its
// own size (bilinear as torch's F.interpolate, then argmax), and optionally the per-class probabilities.
import { VOC_CATEGORIES } from '../detection/categories.js';
import { MobileNetError } from '../ir/errors.js';
import { readSegmentationMetadata } from '../metadata/dense.js';
import { resizeArgmax, resizeArgmaxSoftmax } from './resize-argmax.js';
import type { Task, TaskModel, TaskResult } from './task.js';

export interface SegmentOptions {
  /** Also the softmax over the classes at every pixel, [classes, height, width] (default false). */
  readonly probabilities?: boolean;
}

/** A class per pixel, row-major, at the image's size. */
export interface SegmentMask {
  readonly width: number;
  readonly height: number;
  /** Class index of each pixel. */
  readonly classes: Uint16Array;
  /** The class names, by index. */
  readonly labels: readonly string[];
}

export type SegmentFields = { readonly mask: SegmentMask; readonly probabilities?: Float32Array };

export type SegmentResult = TaskResult<SegmentFields>;

/** The output a segmenter's class scores come out of, unless its metadata names another. */
export const SEGMENTATION_OUTPUT = 'out';
/** Most classes a mask holds (its Uint16 class indices). */
export const MAX_SEGMENT_CLASSES = 65_536;
/** Most floats of probabilities one image may ask for (1 GiB): beyond, ask for the mask alone. */
export const MAX_PROBABILITY_VALUES = 2 ** 28;

/** The logits' [height, width]: the metadata's, else a square. */
function logitsSize(model: TaskModel, values: number): [number, number] {
  const s = model.segmentation?.inputSize;
  if (s) return [s[0], s[1]];
  const side = Math.round(Math.sqrt(values));
  return [side, side];
}

/** A class per pixel (and the probabilities when asked) at the image's own size. */
export const segmentTask: Task<SegmentOptions, SegmentFields> = {
  name: 'segment',
  outputs(outputs, metadata) {
    const name = readSegmentationMetadata(metadata, 'model')?.output ?? SEGMENTATION_OUTPUT;
    const out = outputs.find((o) => o.name === name && o.shape.length === 4);
    const classes = out?.shape[1];
    if (typeof classes === 'number' && classes > MAX_SEGMENT_CLASSES)
      throw new MobileNetError(
        'model-output',
        `model output '${name}'`,
        `at most ${MAX_SEGMENT_CLASSES} classes`,
        `${classes}`,
      );
    return out && [out];
  },
  needs: "an 'out' output of shape [N, classes, H, W] (lraspp-v3-large, deeplabv3-v3-large)",
  check(options) {
    const p = options?.probabilities;
    if (p !== undefined && typeof p !== 'boolean')
      throw new MobileNetError('option', 'option probabilities', 'true or false', String(p));
  },
  postprocess([row], model, options, image) {
    const classes = model.labels.length;
    const [h, w] = logitsSize(model, row!.length / classes);
    if (h * w * classes !== row!.length)
      throw new MobileNetError(
        'model-output',
        'segmentation output',
        `${classes} x ${h} x ${w} values`,
        `${row!.length}`,
      );
    const mask = (found: Uint16Array) => ({
      width: image.width,
      height: image.height,
      classes: found,
      labels: model.labels,
    });
    if (!options.probabilities) return { mask: mask(resizeArgmax(row!, classes, h, w, image.height, image.width)) };
    if (classes * image.width * image.height > MAX_PROBABILITY_VALUES)
      throw new MobileNetError(
        'option',
        'option probabilities',
        `at most ${MAX_PROBABILITY_VALUES} values per image (classes x width x height)`,
        `${classes} x ${image.width} x ${image.height}`,
      );
    // One resize for both: the mask from the resized logits, the probabilities from their softmax.
    const both = resizeArgmaxSoftmax(row!, classes, h, w, image.height, image.width);
    return { mask: mask(both.classes), probabilities: both.probabilities };
  },
};

/** The built-in names for a model of 21 classes that names none (VOC_CATEGORIES), else undefined. */
export const segmentationLabels = (classes: number): readonly string[] | undefined =>
  classes === VOC_CATEGORIES.length ? VOC_CATEGORIES : undefined;
