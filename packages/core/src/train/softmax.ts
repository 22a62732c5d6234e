import { exp, log } from './fmath.js';

/** The data every head trains on: n rows of `dim` float32 features (row-major) and a class index per row. */
export interface Rows {
  x: Float32Array;
  dim: number;
  labels: Int32Array;
  classCount: number;
}

/**
 * The terms of an objective: scale * sum over rows of w[y] * CE(softmax(z), t) + l2 / 2 * ||weights||^2, biases not
 * penalized, t = (1 - smoothing) * onehot(y) + smoothing / K. scale = 1 and no smoothing is scikit-learn's
 * LogisticRegression objective with l2 = 1 / C; scale = 1 / batch is a mean.
 */
export interface LossTerms {
  scale: number;
  l2: number;
  smoothing: number;
  /** A weight per class (scikit-learn's class_weight), or null for 1. */
  classWeight: Float64Array | null;
}

/** A model whose parameters are one Float64Array: what the optimizers and the evaluation need. */
export interface Trainable {
  readonly size: number;
  /** The objective over `rows` (indices into the data); writes its gradient into `grad` (overwritten) if given. */
  lossGrad(theta: Float64Array, grad: Float64Array | null, rows: Int32Array, terms: LossTerms): number;
  /** The K logits of one row (an index into the data). */
  logits(theta: Float64Array, row: number, out: Float64Array): void;
}

/**
 * Softmax cross-entropy of K logits z[0..K) against label y with label smoothing, times `weight`. Writes
 * weight * (p - t) into dz (the gradient with respect to z) and returns weight * (logsumexp(z) - t . z).
 * NaN or infinite logits give NaN, which the training loops turn into an error.
 */
export function softmaxCrossEntropy(
  z: Float64Array,
  k: number,
  y: number,
  smoothing: number,
  weight: number,
  dz: Float64Array,
): number {
  let m = z[0]!;
  for (let c = 1; c < k; c++) if (z[c]! > m) m = z[c]!;
  let s = 0;
  for (let c = 0; c < k; c++) {
    const e = exp(z[c]! - m);
    dz[c] = e;
    s += e;
  }
  const lse = m + log(s);
  const off = smoothing / k;
  const on = 1 - smoothing + off;
  let tz = 0;
  for (let c = 0; c < k; c++) {
    const t = c === y ? on : off;
    tz += t * z[c]!;
    dz[c] = weight * (dz[c]! / s - t);
  }
  return weight * (lse - tz);
}

/** Softmax of K logits in place (float64). */
export function softmaxInPlace(z: Float64Array, k: number): void {
  let m = z[0]!;
  for (let c = 1; c < k; c++) if (z[c]! > m) m = z[c]!;
  let s = 0;
  for (let c = 0; c < k; c++) {
    const e = exp(z[c]! - m);
    z[c] = e;
    s += e;
  }
  for (let c = 0; c < k; c++) z[c] = z[c]! / s;
}

/** Index of the largest of K values (the first on ties). */
export function argmax(z: Float64Array | Float32Array, k: number, offset = 0): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (z[offset + c]! > z[offset + best]!) best = c;
  return best;
}

/** Mean cross-entropy (no smoothing, no class weights) and accuracy of a model on some rows. */
export function evaluate(
  model: Trainable,
  theta: Float64Array,
  data: Rows,
  rows: Int32Array,
): { loss: number; accuracy: number } {
  const k = data.classCount;
  const z = new Float64Array(k);
  const dz = new Float64Array(k);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    model.logits(theta, r, z);
    const y = data.labels[r]!;
    if (argmax(z, k) === y) correct++;
    loss += softmaxCrossEntropy(z, k, y, 0, 1, dz);
  }
  return rows.length === 0
    ? { loss: Number.NaN, accuracy: Number.NaN }
    : { loss: loss / rows.length, accuracy: correct / rows.length };
}
