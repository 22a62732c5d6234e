import { MobileNetError } from '../ir/errors.js';

/**
 * Bad input to training or prediction (one class only, a class with fewer than 2 examples, NaN in the embeddings,
 * lengths that disagree, an option out of range), or a run that diverged. The message names the field and the value.
 */
export class TrainError extends MobileNetError {
  constructor(code: string, where: string, expected: string, received: string, detail?: string) {
    super(code, where, expected, received, detail);
    this.name = 'TrainError';
  }
}

/** A serialized KNN classifier that cannot be read: the message names the field that is wrong. */
export class KnnFormatError extends MobileNetError {
  constructor(where: string, expected: string, received: string, detail?: string) {
    super('knn-format', where, expected, received, detail);
    this.name = 'KnnFormatError';
  }
}
