import { describe, expect, it } from 'vitest';
import { TrainError } from './errors.js';
import { predict, type TrainHeadOptions, trainHead } from './head.js';

const dim = 3;
const labels = Int32Array.from([0, 0, 0, 1, 1, 1]);
const embeddings = Float32Array.from({ length: 6 * dim }, (_, i) => (i % 5) - 2 + (i >= 9 ? 2 : 0));
const base: TrainHeadOptions = { embeddings, labels, classes: ['cat', 'dog'], epochs: 2 };

function fails(options: Partial<TrainHeadOptions> | unknown, pattern: RegExp): void {
  const call = () =>
    trainHead(
      typeof options === 'object' && options !== null ? { ...base, ...options } : (options as TrainHeadOptions),
    );
  expect(call).toThrow(TrainError);
  expect(call).toThrow(pattern);
}

describe('trainHead refuses bad input with a message that names the problem', () => {
  it('one class only', () =>
    fails({ classes: ['cat'], labels: Int32Array.from([0, 0, 0, 0, 0, 0]) }, /one class only \("cat"\)/));
  it('no classes', () => fails({ classes: [] }, /at least 2 classes, received no classes/));
  it('a class with fewer than 2 examples', () =>
    fails(
      { labels: Int32Array.from([0, 0, 0, 0, 0, 1]) },
      /class "dog" \(index 1\): expected at least 2 examples, received 1 example/,
    ));
  it('a class with no examples', () =>
    fails({ classes: ['cat', 'dog', 'owl'] }, /class "owl" \(index 2\).*received 0 examples/));
  it('NaN in the embeddings', () => {
    const bad = embeddings.slice();
    bad[7] = Number.NaN;
    fails(
      { embeddings: bad },
      /embeddings\[7\] \(example 2, class "cat", feature 1\): expected a finite number, received NaN/,
    );
  });
  it('infinity in the embeddings', () => {
    const bad = embeddings.slice();
    bad[17] = Number.NEGATIVE_INFINITY;
    fails({ embeddings: bad }, /embeddings\[17\].*received -Infinity/);
  });
  it('mismatched lengths', () =>
    fails(
      { embeddings: embeddings.subarray(0, 17) },
      /a multiple of the 6 labels.*received 17 values.*mismatched lengths/,
    ));
  it('a label out of range', () =>
    fails(
      { labels: Int32Array.from([0, 0, 0, 1, 1, 2]) },
      /labels\[5\]: expected a class index in \[0, 2\), received 2/,
    ));
  it('embeddings that are not a Float32Array', () =>
    fails({ embeddings: [1, 2, 3] as unknown as Float32Array }, /embeddings: expected a Float32Array.*an array of 3/));
  it('class names that repeat after normalisation', () =>
    fails({ classes: ['caf\u00e9', 'cafe\u0301'] }, /classes\[1\].*distinct.*the same as classes\[0\]/));
  it('class names that are not valid UTF-8 (a lone surrogate)', () =>
    fails({ classes: ['cat', 'd\ud800g'] }, /classes\[1\].*well-formed Unicode/));
  it('an empty class name', () => fails({ classes: ['cat', ' '] }, /classes\[1\]: expected a non-empty string/));
  it('NaN loss: says the learning rate is too high and suggests one', () => {
    // Adam's steps are at most about lr, so only an absurd rate overflows float64 logits (inf - inf = NaN).
    const big = embeddings.map((v) => v * 1e10);
    fails(
      { embeddings: big, lr: 1e300, epochs: 5, val: 0 },
      /epoch \d+, batch \d+: expected a finite training loss, received NaN \(the learning rate 1e\+300 is too high for these embeddings: try lr 1e\+299\)/,
    );
    fails(
      { embeddings: big, lr: 1e300, epochs: 5, batchSize: 6 },
      /epoch 1, validation: expected a finite validation loss, received NaN.*try lr 1e\+299/,
    );
  });
  it('options out of range', () => {
    fails({ val: 1 }, /option val: expected a number in \[0, 1\), received 1/);
    fails({ lr: 0 }, /option lr: expected a number in \(0, inf\], received 0/);
    fails({ epochs: 1.5 }, /option epochs: expected an integer >= 1, received 1.5/);
    fails({ labelSmoothing: 1 }, /option labelSmoothing/);
    fails({ weightDecay: -1 }, /option weightDecay/);
    fails({ head: 'svm' as 'mlp' }, /option head: expected 'linear' or 'mlp', received "svm"/);
    fails({ hidden: 8 }, /option hidden.*use head: 'mlp'/);
    fails({ head: 'mlp', hidden: 0 }, /option hidden: expected an integer >= 1, received 0/);
    fails({ head: 'mlp', optimizer: 'lbfgs' }, /L-BFGS fits the linear head only/);
    fails({ classWeights: [1] }, /option classWeights: expected 'balanced' or an array of 2 weights/);
    fails(
      { classWeights: [1, 0] },
      /option classWeights\[1\] \(class "dog"\): expected a finite number > 0, received 0/,
    );
    fails({ seed: -1 }, /option seed/);
    fails(null, /trainHead: expected an options object, received null/);
  });
  it('predict checks the embedding size and the weights', () => {
    const head = trainHead(base);
    expect(() => predict(head, new Float32Array(4))).toThrow(/a multiple of the head's 3 inputs, received 4 values/);
    expect(() => predict(head, Float32Array.from([0, 1, Number.NaN]))).toThrow(
      /embeddings\[2\] \(example 0, feature 2\): expected a finite number, received NaN/,
    );
    expect(() => predict({ ...head, weights: { ...head.weights, b: new Float32Array(3) } }, embeddings)).toThrow(
      /head.weights.b: expected a Float32Array of 2, received a Float32Array of 3/,
    );
  });
});
