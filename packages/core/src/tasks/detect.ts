// The shape of the detection task to come: types only. No model here has a detection head yet; the task that
// reads one lands as a file like classify.ts, registered in builtin.ts, with a `detect` method on the session.
import type { TaskResult } from './task.js';

export interface DetectOptions {
  /** Lowest score kept. */
  readonly minScore?: number;
  /** Most boxes per image, highest score first. */
  readonly maxBoxes?: number;
}

/** One object found: its class and a box in the input image's pixels. */
export interface Detection {
  readonly index: number;
  readonly label: string;
  readonly score: number;
  /** Left, top, width, height. */
  readonly box: readonly [number, number, number, number];
}

export type DetectResult = TaskResult<{ readonly detections: readonly Detection[] }>;
