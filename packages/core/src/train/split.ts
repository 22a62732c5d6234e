import { TrainError } from './errors.js';
import { Rng } from './rng.js';

/** Which rows train and which validate: row indices into the labels, each list ascending. */
export interface Split {
  train: Int32Array;
  val: Int32Array;
}

/** The stream of the seeded generator that the split draws from (the shuffles and initial weights use others). */
export const SPLIT_STREAM = 1;

/**
 * A deterministic stratified train/validation split (`--val FRACTION`).
 *
 * Semantics: for each class c with n_c rows, round(val * n_c) rows go to validation (Math.round: halves round up),
 * clamped to [1, n_c - 1] when val > 0, so every class keeps at least one training row and, when a validation set
 * is asked for, has at least one validation row. val = 0 gives an empty validation set. Which rows: the class's rows
 * in ascending order, shuffled by Fisher-Yates with Rng(seed, SPLIT_STREAM), one generator for all classes in class
 * order; the first ones validate. The same labels and seed give the same split in every engine; adding rows of a new
 * class at the end leaves the other classes' draws unchanged only if that class sorts after them.
 *
 * Classes must have at least 2 rows each when val > 0 (trainHead checks this first, with the class's name).
 */
export function stratifiedSplit(labels: Int32Array, classCount: number, val: number, seed: number): Split {
  if (!(val >= 0 && val < 1)) {
    throw new TrainError('train-option', 'option val', 'a fraction in [0, 1)', String(val));
  }
  const members: number[][] = Array.from({ length: classCount }, () => []);
  for (let i = 0; i < labels.length; i++) members[labels[i]!]!.push(i);
  const rng = new Rng(seed, SPLIT_STREAM);
  const isVal = new Uint8Array(labels.length);
  let valCount = 0;
  for (let c = 0; c < classCount; c++) {
    const rows = Int32Array.from(members[c]!);
    if (val === 0 || rows.length === 0) continue;
    if (rows.length < 2) {
      throw new TrainError('train-class-size', `class ${c}`, 'at least 2 examples', String(rows.length));
    }
    const take = Math.min(rows.length - 1, Math.max(1, Math.round(val * rows.length)));
    rng.shuffle(rows);
    for (let i = 0; i < take; i++) isVal[rows[i]!] = 1;
    valCount += take;
  }
  const train = new Int32Array(labels.length - valCount);
  const valRows = new Int32Array(valCount);
  let t = 0;
  let v = 0;
  for (let i = 0; i < labels.length; i++) {
    if (isVal[i]) valRows[v++] = i;
    else train[t++] = i;
  }
  return { train, val: valRows };
}
