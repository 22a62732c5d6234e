// The shape of the segmentation task to come: types only, as detect.ts (LRASPP / DeepLabV3 heads: one output of
// class logits per pixel, resized to the image).
import type { TaskResult } from './task.js';

/** A class per pixel, row-major, at the image's size. */
export interface SegmentMask {
  readonly width: number;
  readonly height: number;
  /** Class index of each pixel. */
  readonly classes: Uint16Array;
  /** The class names, by index. */
  readonly labels: readonly string[];
}

export type SegmentResult = TaskResult<{ readonly mask: SegmentMask }>;
