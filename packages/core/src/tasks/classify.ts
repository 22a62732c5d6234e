import { MobileNetError } from '../ir/errors.js';
import { OUTPUT_NAMES } from '../metadata/keys.js';
import { type Prediction, softmax, topK } from './postprocess.js';
import type { Task, TaskResult } from './task.js';

export interface ClassifyOptions {
  /** Classes per image, most probable first. Default 5. */
  readonly topK?: number;
}

export type ClassifyResult = TaskResult<{ readonly top: readonly Prediction[] }>;

/** The class scores: the output named 'logits', else the first output when it is [N, classes] (a foreign classifier's). */
function scoresOutput<T extends { readonly name: string; readonly shape: readonly unknown[] }>(
  outputs: readonly T[],
): T | undefined {
  const named = outputs.find((o) => o.name === OUTPUT_NAMES.logits);
  if (named) return named;
  return outputs[0]?.shape.length === 2 ? outputs[0] : undefined;
}

/** Top-k classes: softmax over the model's 'logits' output (its first output when none is so named and it is 2-D). */
export const classifyTask: Task<ClassifyOptions, { readonly top: readonly Prediction[] }> = {
  name: 'classify',
  outputs: (outputs) => {
    const o = scoresOutput(outputs);
    return o && [o];
  },
  needs: 'a logits output of shape [N, classes]',
  check(options) {
    const k = options.topK;
    if (k !== undefined && (!Number.isInteger(k) || k < 1))
      throw new MobileNetError('option', 'option topK', 'a positive integer', String(k));
  },
  postprocess: ([row], model, options) => ({ top: topK(softmax(row!), options.topK ?? 5, model.labels) }),
};
