import { describe, expect, it } from 'vitest';
import { features, readHeads } from '../../test/fixtures/train/read.js';
import { type EpochRecord, trainAdam } from './adam.js';
import { predict, trainHead } from './head.js';
import { linearModel } from './linear.js';
import { Rng } from './rng.js';

const { data, missing } = readHeads();
if (missing) console.warn(`head.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('trainHead with Adam on load_digits (fixtures/train/heads.json)', () => {
  it('the linear head reaches scikit-learn accuracy within 2 points; early stopping keeps the best epoch', () => {
    const c = data!.cases.digits;
    const records: EpochRecord[] = [];
    // weightDecay = 1 / (C n): the objective scikit-learn minimizes, divided by n.
    const head = trainHead({
      embeddings: features(c),
      labels: c.labels,
      classes: c.classes,
      lr: 0.01,
      epochs: 100,
      weightDecay: 1 / 1527,
      seed: 1,
      onEpoch: (r) => records.push(r),
    });
    expect(records).toEqual(head.history);
    // round(0.15 * n_c) per class: 269 of 1,797 (sklearn's train_test_split took 270).
    expect(head.split.val.length).toBe(269);
    // Measured: 0.9777 (sklearn 0.9630 on its own split of the same size), stopped at epoch 66, best 56.
    expect(Math.abs(head.valAccuracy - c.val_accuracy)).toBeLessThanOrEqual(0.02);
    expect(head.stoppedEarly).toBe(true);
    const best = Math.min(...head.history.map((r) => r.valLoss));
    expect(head.history[head.bestEpoch - 1]!.valLoss).toBe(best);
    expect(head.history.length).toBe(head.bestEpoch + 10);
    const p = predict(head, features(c));
    expect(p.probabilities.length).toBe(c.n * 10);
    let hits = 0;
    for (const r of head.split.val) if (p.labels[r] === c.labels[r]) hits++;
    expect(hits / head.split.val.length).toBe(head.valAccuracy);
  });

  it('is deterministic: two runs give the same weights and history bit for bit (mlp, smoothing, class weights)', () => {
    const c = data!.cases['digits-imbalanced'];
    const run = () =>
      trainHead({
        embeddings: features(c),
        labels: c.labels,
        classes: c.classes,
        head: 'mlp',
        hidden: 16,
        epochs: 4,
        lr: 0.01,
        labelSmoothing: 0.1,
        classWeights: 'balanced',
        weightDecay: 1e-4,
        seed: 7,
      });
    const a = run();
    const b = run();
    for (const key of ['W', 'b', 'W2', 'b2'] as const) {
      expect(a.weights[key]!.length).toBeGreaterThan(0);
      expect(Buffer.from(a.weights[key]!.buffer).equals(Buffer.from(b.weights[key]!.buffer))).toBe(true);
    }
    expect(a.history).toEqual(b.history);
    expect(a.weights.W.length).toBe(16 * 64);
    expect(a.weights.W2!.length).toBe(10 * 16);
    // A different seed changes the split, the batch order and the initial weights.
    const other = trainHead({
      embeddings: features(c),
      labels: c.labels,
      classes: c.classes,
      head: 'mlp',
      hidden: 16,
      epochs: 1,
      seed: 8,
    });
    expect(Array.from(other.split.val)).not.toEqual(Array.from(a.split.val));
    // 'balanced': n / (K n_c) over the training rows, scikit-learn's formula.
    const counts = new Array(10).fill(0);
    for (const r of a.split.train) counts[c.labels[r]!]++;
    expect(a.options.classWeights).toEqual(counts.map((n) => a.split.train.length / (10 * n)));
    expect(a.history[0]!.valAccuracy).toBeGreaterThan(0.5);
  });

  it('the MLP head learns digits', () => {
    const c = data!.cases.digits;
    const head = trainHead({
      embeddings: features(c),
      labels: c.labels,
      classes: c.classes,
      head: 'mlp',
      hidden: 32,
      epochs: 8,
      lr: 0.01,
    });
    expect(head.valAccuracy).toBeGreaterThan(0.93);
    expect(predict(head, features(c)).labels.length).toBe(c.n);
  });
});

describe('Adam loop', () => {
  it('label smoothing raises the training loss floor; no validation means no early stopping', () => {
    const rng = new Rng(3);
    const n = 60;
    const x = Float32Array.from(
      { length: n * 4 },
      (_, i) => (i % 4 === Math.floor(i / 4) % 3 ? 3 : 0) + rng.nextFloat(),
    );
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const classes = ['a', 'b', 'c'];
    const plain = trainHead({ embeddings: x, labels, classes, epochs: 30, lr: 0.1, val: 0 });
    const smooth = trainHead({ embeddings: x, labels, classes, epochs: 30, lr: 0.1, val: 0, labelSmoothing: 0.2 });
    expect(plain.history.length).toBe(30);
    expect(plain.stoppedEarly).toBe(false);
    expect(Number.isNaN(plain.valAccuracy)).toBe(true);
    expect(plain.trainAccuracy).toBe(1);
    expect(smooth.history.at(-1)!.loss).toBeGreaterThan(plain.history.at(-1)!.loss + 0.2);
    // Batches of 7 over 60 rows: the reported loss is the mean of the batch means.
    const model = linearModel({ x, dim: 4, labels, classCount: 3 });
    const all = Int32Array.from({ length: n }, (_, i) => i);
    const run = trainAdam(
      model,
      { x, dim: 4, labels, classCount: 3 },
      new Float64Array(model.size),
      all,
      new Int32Array(0),
      {
        epochs: 2,
        lr: 0.1,
        batchSize: 7,
        patience: 1,
        seed: 0,
        terms: { l2: 0, smoothing: 0, classWeight: null },
      },
    );
    expect(run.history.length).toBe(2);
    expect(run.history[0]!.loss).toBeLessThan(Math.log(3));
    expect(run.history[1]!.loss).toBeLessThan(run.history[0]!.loss);
  });
});
