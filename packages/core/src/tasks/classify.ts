import { MobileNetError } from '../ir/errors.js';
import { type Prediction, softmax, topK } from './postprocess.js';
import type { Task, TaskResult } from './task.js';

export interface ClassifyOptions {
  /** Classes per image, most probable first. Default 5. */
  readonly topK?: number;
}

export type ClassifyResult = TaskResult<{ readonly top: readonly Prediction[] }>;

/** Top-k classes: softmax over the model's 'logits' output (its first output when none is so named). */
export const classifyTask: Task<ClassifyOptions, { readonly top: readonly Prediction[] }> = {
  name: 'classify',
  output: (outputs) => outputs.find((o) => o.name === 'logits') ?? outputs[0],
  needs: 'a logits output of shape [N, classes]',
  check(options) {
    const k = options.topK;
    if (k !== undefined && (!Number.isInteger(k) || k < 1))
      throw new MobileNetError('option', 'option topK', 'a positive integer', String(k));
  },
  postprocess: (row, model, options) => ({ top: topK(softmax(row), options.topK ?? 5, model.labels) }),
};
