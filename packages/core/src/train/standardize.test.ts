import { describe, expect, it } from 'vitest';
import { TrainError } from './errors.js';
import { predict, trainHead } from './head.js';
import { stratifiedSplit } from './split.js';

// Pooled-activation-like features: all positive, a large common offset, classes apart on a few features.
const n = 60;
const dim = 12;
const labels = Array.from({ length: n }, (_, i) => i % 3);
const embeddings = Float32Array.from({ length: n * dim }, (_, j) => {
  const row = Math.floor(j / dim);
  const d = j % dim;
  return 5 + d * 0.5 + (d === labels[row] ? 1 : 0) + (((row * 13 + d * 7) % 11) - 5) / 20;
});
const classes = ['a', 'b', 'c'];

describe('trainHead standardize', () => {
  for (const head of ['linear', 'mlp'] as const) {
    it(`${head}: the folded weights on raw rows give what the unfolded ones give on standardized rows`, () => {
      const o = { labels, classes, head, ...(head === 'mlp' && { hidden: 8 }), epochs: 20, lr: 0.05, seed: 4 };
      const folded = trainHead({ ...o, embeddings, standardize: true });
      // The same statistics by hand (float64, training rows), and a plain run on the standardized rows.
      const train = stratifiedSplit(Int32Array.from(labels), 3, 0.15, 4).train;
      const mean = new Float64Array(dim);
      const sq = new Float64Array(dim);
      for (const r of train) for (let d = 0; d < dim; d++) mean[d]! += embeddings[r * dim + d]! / train.length;
      for (const r of train) for (let d = 0; d < dim; d++) sq[d]! += (embeddings[r * dim + d]! - mean[d]!) ** 2;
      const z = embeddings.map((v, j) => (v - mean[j % dim]!) / Math.sqrt(sq[j % dim]! / train.length));
      const plain = trainHead({ ...o, embeddings: z });
      const a = predict(folded, embeddings).probabilities;
      const b = predict(plain, z).probabilities;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(1e-4);
      expect(folded.options.standardize).toBe(true);
      expect(folded.valAccuracy).toBe(plain.valAccuracy);
    });
  }

  it('helps Adam on offset features: higher validation accuracy in the same epochs', () => {
    const o = { embeddings, labels, classes, epochs: 10, lr: 0.01, seed: 0 };
    expect(trainHead({ ...o, standardize: true }).trainAccuracy).toBeGreaterThan(trainHead(o).trainAccuracy);
  });

  it('refuses a value that is not a boolean', () => {
    expect(() => trainHead({ embeddings, labels, classes, standardize: 'yes' as unknown as boolean })).toThrow(
      TrainError,
    );
  });
});
