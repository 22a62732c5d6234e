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
  const n = Math.max(0, Math.min(k, probabilities.length));
  const prediction = (index: number) => ({
    index,
    label: labels[index] ?? `class ${index}`,
    probability: probabilities[index]!,
  });
  // A few of many (top-5 of 1000): one pass keeping the best k in order, rather than sorting every class.
  if (n <= 16) return bestFew(probabilities, n).map(prediction);
  const idx = Array.from({ length: probabilities.length }, (_, i) => i);
  idx.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  return idx.slice(0, n).map(prediction);
}

/** Indices of the `k` largest values, largest first, ties by lower index. */
function bestFew(values: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  if (k === 0) return best;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === k) {
      if (!(v > values[best[k - 1]!]!)) continue; // a tie keeps the lower index already in
      best.pop();
    }
    let j = best.length;
    while (j > 0 && v > values[best[j - 1]!]!) j--;
    best.splice(j, 0, i);
  }
  return best;
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
