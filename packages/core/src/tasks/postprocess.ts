export interface Prediction {
  readonly index: number;
  readonly label: string;
  readonly probability: number;
}

/** Softmax of one row of logits, computed stably (max subtracted). */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** The k most probable classes, highest first (ties by lower index). */
export function topK(probabilities: ArrayLike<number>, k: number, labels: readonly string[]): Prediction[] {
  const idx = Array.from({ length: probabilities.length }, (_, i) => i);
  idx.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  return idx.slice(0, Math.max(0, Math.min(k, idx.length))).map((index) => ({
    index,
    label: labels[index] ?? `class ${index}`,
    probability: probabilities[index]!,
  }));
}

/**
 * Why a row of a model's output cannot be given as an answer, or undefined when every value is finite: a NaN
 * weight or an overflow makes NaN or infinite logits, which softmax would turn into NaN probabilities.
 */
export function nonFinite(row: ArrayLike<number>, output: string): string | undefined {
  for (let i = 0; i < row.length; i++)
    if (!Number.isFinite(row[i]))
      return `the model's output '${output}' is not finite (${row[i]} at index ${i}): the model's weights or ops are broken for this input`;
  return undefined;
}
