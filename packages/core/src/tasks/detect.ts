// The shape of the detection task to come (issue 26): types only, on core/detection's postprocessing types. The
// task itself lands as a file like classify.ts, listed in builtin.ts, with a `detect` method on the session facade.
// What the seam still needs for it: an SSD head has two outputs (box regression and class logits), so `Task.output`
// becomes a list and the engine's `run` returns several; and the postprocessing reads each image's original size.
import type { DetectionOptions, Detections } from '../detection/postprocess.js';
import type { TaskResult } from './task.js';

export type DetectOptions = DetectionOptions;

/** One image's detections, best first, in its own pixels. */
export type DetectResult = TaskResult<{ readonly detections: Detections }>;
