import { TrainError } from './errors.js';

/** Counts of (true class, predicted class): K x K row-major, rows true, columns predicted (scikit-learn's layout). */
export function confusionMatrix(truth: Int32Array, predicted: Int32Array, classCount: number): Int32Array {
  if (truth.length !== predicted.length) {
    throw new TrainError(
      'train-input',
      'predicted',
      `${truth.length} labels, as many as the true labels`,
      `${predicted.length}`,
    );
  }
  const m = new Int32Array(classCount * classCount);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (!(t >= 0 && t < classCount))
      throw new TrainError('train-input', `truth[${i}]`, `a class in [0, ${classCount})`, String(t));
    if (!(p >= 0 && p < classCount))
      throw new TrainError('train-input', `predicted[${i}]`, `a class in [0, ${classCount})`, String(p));
    m[t * classCount + p]!++;
  }
  return m;
}

export interface ClassReport {
  class: string;
  /** Correct predictions of the class over all predictions of it; 0 when it was never predicted. */
  precision: number;
  /** Correct predictions of the class over its examples; 0 when it has none. */
  recall: number;
  /** Harmonic mean of the two; 0 when both are 0. */
  f1: number;
  support: number;
}

export interface Report {
  accuracy: number;
  perClass: ClassReport[];
  confusion: Int32Array;
  /** Unweighted means over classes. */
  macro: { precision: number; recall: number; f1: number };
}

/** Per-class precision, recall, F1 and support, as scikit-learn's precision_recall_fscore_support(zero_division=0). */
export function classificationReport(truth: Int32Array, predicted: Int32Array, classes: string[]): Report {
  const k = classes.length;
  const confusion = confusionMatrix(truth, predicted, k);
  let correct = 0;
  const perClass: ClassReport[] = classes.map((name, c) => {
    let col = 0;
    let row = 0;
    for (let j = 0; j < k; j++) {
      col += confusion[j * k + c]!;
      row += confusion[c * k + j]!;
    }
    const tp = confusion[c * k + c]!;
    correct += tp;
    const precision = col === 0 ? 0 : tp / col;
    const recall = row === 0 ? 0 : tp / row;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { class: name, precision, recall, f1, support: row };
  });
  const mean = (f: (r: ClassReport) => number) => perClass.reduce((s, r) => s + f(r), 0) / k;
  return {
    accuracy: truth.length === 0 ? Number.NaN : correct / truth.length,
    perClass,
    confusion,
    macro: { precision: mean((r) => r.precision), recall: mean((r) => r.recall), f1: mean((r) => r.f1) },
  };
}

/** The confusion matrix as a plain-text table: true classes down, predicted across, names cut to 12 characters. */
export function formatConfusion(confusion: Int32Array, classes: string[]): string {
  const k = classes.length;
  const names = classes.map((c) => (c.length > 12 ? `${c.slice(0, 11)}…` : c));
  const width = Math.max(4, ...names.map((c) => c.length), ...Array.from(confusion, (v) => String(v).length));
  const head = Math.max(...names.map((c) => c.length), 'true \\ pred'.length);
  const lines = [['true \\ pred'.padEnd(head), ...names.map((c) => c.padStart(width))].join(' ')];
  for (let i = 0; i < k; i++) {
    const cells = Array.from(confusion.subarray(i * k, i * k + k), (v) => String(v).padStart(width));
    lines.push([names[i]!.padEnd(head), ...cells].join(' '));
  }
  return lines.join('\n');
}
