import { MobileNetError } from '../ir/errors.js';
import { embeddingOutputOf } from '../metadata/keys.js';
import type { Task, TaskResult } from './task.js';

export type EmbedResult = TaskResult<{ readonly embedding: Float32Array }>;

const NEEDS = "an 'embedding' output (export with embedding: true / --embedding)";

/** The pooled feature vector: the model's 'embedding' output, as it is. */
export const embedTask: Task<object, { readonly embedding: Float32Array }> = {
  name: 'embed',
  outputs: (outputs) => {
    const o = embeddingOutputOf(outputs);
    return o && [o];
  },
  needs: NEEDS,
  postprocess: ([row]) => ({ embedding: row! }),
};

/** The model's 'embedding' output, or an error saying how to export one. */
export function embeddingOutput(info: { readonly embeddingName?: string }): string {
  if (info.embeddingName) return info.embeddingName;
  throw new MobileNetError('model-output', 'model', NEEDS, 'none');
}
