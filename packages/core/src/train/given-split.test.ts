import { describe, expect, it } from 'vitest';
import { TrainError } from './errors.js';
import { trainHead } from './head.js';
import { stratifiedSplit } from './split.js';

// Three separable clusters in 4 dimensions, 6 rows each.
const labels = Array.from({ length: 18 }, (_, i) => i % 3);
const embeddings = Float32Array.from({ length: 18 * 4 }, (_, j) => {
  const row = Math.floor(j / 4);
  return (j % 4 === labels[row] ? 2 : 0) + ((row * 7 + j) % 5) / 10;
});
const classes = ['a', 'b', 'c'];

describe('trainHead with a given split', () => {
  it('the drawn split, given, trains the same weights; extra rows given only to train are trained on', () => {
    const drawn = trainHead({ embeddings, labels, classes, epochs: 5, lr: 0.05, seed: 2 });
    const given = trainHead({
      embeddings,
      labels,
      classes,
      epochs: 5,
      lr: 0.05,
      seed: 2,
      split: stratifiedSplit(Int32Array.from(labels), 3, 0.15, 2),
    });
    expect(given.weights.W).toEqual(drawn.weights.W);
    expect(given.split.val).toEqual(drawn.split.val);
    const fewer = trainHead({
      embeddings,
      labels,
      classes,
      epochs: 5,
      split: { train: Int32Array.from([0, 1, 2, 3, 4, 5]), val: Int32Array.from([6, 7, 8]) },
    });
    expect(fewer.split.train.length).toBe(6);
  });

  it('refuses a row out of range, a row used twice and an empty training part, naming the field', () => {
    const bad = (train: number[], val: number[]) => () =>
      trainHead({ embeddings, labels, classes, split: { train: Int32Array.from(train), val: Int32Array.from(val) } });
    expect(bad([0, 1, 2], [18])).toThrow(TrainError);
    expect(bad([0, 1, 2], [18])).toThrow('option split.val[0]: expected a row index in [0, 18) used once, received 18');
    expect(bad([0, 1, 2], [2])).toThrow('option split.val[0]');
    expect(bad([], [1])).toThrow('option split.train: expected at least one row, received 0');
  });
});
