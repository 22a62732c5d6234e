import { describe, expect, it } from 'vitest';
import { readHeads } from '../../test/fixtures/train/read.js';
import { classificationReport, confusionMatrix, formatConfusion } from './metrics.js';

const { data, missing } = readHeads();
if (missing) console.warn(`metrics.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('metrics against scikit-learn 1.2 on its own validation predictions', () => {
  for (const name of ['digits', 'lfw', 'digits-imbalanced'] as const) {
    it(`${name}: confusion_matrix and precision_recall_fscore_support`, () => {
      const c = data!.cases[name];
      const truth = Int32Array.from(c.val_indices, (i) => c.labels[i]!);
      const predicted = Int32Array.from(c.val_predictions);
      const r = classificationReport(truth, predicted, c.classes);
      expect(Array.from(r.confusion)).toEqual(c.val_confusion.flat());
      r.perClass.forEach((p, k) => {
        expect(p.precision).toBeCloseTo(c.val_precision[k]!, 12);
        expect(p.recall).toBeCloseTo(c.val_recall[k]!, 12);
        expect(p.f1).toBeCloseTo(c.val_f1[k]!, 12);
        expect(p.support).toBe(c.val_support[k]);
      });
      expect(r.accuracy).toBeCloseTo(c.val_accuracy, 12);
    });
  }
});

describe('metrics', () => {
  it('a class never predicted has precision 0 (zero_division=0); the table has one row per class', () => {
    const r = classificationReport(Int32Array.from([0, 1, 2, 2]), Int32Array.from([0, 0, 0, 2]), [
      'cat',
      'dog',
      'a very long name',
    ]);
    expect(r.perClass[1]).toEqual({ class: 'dog', precision: 0, recall: 0, f1: 0, support: 1 });
    expect(r.perClass[0]!.precision).toBeCloseTo(1 / 3, 15);
    const table = formatConfusion(r.confusion, ['cat', 'dog', 'a very long name']).split('\n');
    expect(table).toHaveLength(4);
    expect(table[0]).toContain('a very long…');
    expect(table[3]!.trim().split(/\s+/).slice(-3)).toEqual(['1', '0', '1']);
    expect(() => confusionMatrix(Int32Array.from([0]), Int32Array.from([3]), 2)).toThrow(
      /predicted\[0\]: expected a class in \[0, 2\), received 3/,
    );
    expect(() => confusionMatrix(Int32Array.from([0]), Int32Array.from([]), 2)).toThrow(/predicted/);
  });
});
