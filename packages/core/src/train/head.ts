import { type EpochRecord, trainAdam } from './adam.js';
import { TrainError } from './errors.js';
import { fitLinearLbfgs, linearModel } from './linear.js';
import { mlpInit, mlpModel } from './mlp.js';
import { argmax, evaluate, type Rows, softmaxInPlace, type Trainable } from './softmax.js';
import { type Split, stratifiedSplit } from './split.js';
import { fold, standardized, statistics } from './standardize.js';
import { checkExamples, checkInt, checkNumber, describe } from './validate.js';

export type HeadKind = 'linear' | 'mlp';

export interface TrainHeadOptions {
  /** N rows of D float32 values, row-major. */
  embeddings: Float32Array;
  /** N class indices into `classes`. */
  labels: Int32Array | number[];
  /** Class names, at least 2, each with at least 2 examples. */
  classes: string[];
  /** 'linear' (default): multinomial logistic regression. 'mlp': one ReLU hidden layer, then softmax. */
  head?: HeadKind;
  /** Hidden units of the MLP head (default 100). */
  hidden?: number;
  /** 'adam' (default) or, for the linear head, 'lbfgs': full-batch L-BFGS on the whole objective, scikit-learn's solver. */
  optimizer?: 'adam' | 'lbfgs';
  /** Adam epochs (default 50); L-BFGS iterations (default 1000). */
  epochs?: number;
  /** Adam's learning rate (default 0.001). */
  lr?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /**
   * L2 strength on the weights, never the biases (default 0): the objective is mean(CE) + weightDecay / 2 * ||W||^2.
   * A linear head then minimizes scikit-learn's objective with C = 1 / (weightDecay * trainingRows).
   */
  weightDecay?: number;
  /** Label smoothing epsilon in [0, 1) (default 0): targets (1 - eps) * onehot + eps / K. */
  labelSmoothing?: number;
  /** 'balanced' (scikit-learn's: n / (K * n_c)) or a weight per class; default none (1). */
  classWeights?: 'balanced' | number[];
  /** Validation fraction in [0, 1), stratified (see stratifiedSplit); default 0.15. 0: no validation, no early stopping. */
  val?: number;
  /** Early stopping: epochs without a lower validation loss before stopping (default 10). */
  patience?: number;
  /** Seed of the split, the batch order and the MLP's initial weights (default 0). */
  seed?: number;
  /**
   * The rows to train on and to validate on, given instead of drawn (`val` is then unused): e.g. augmented views of
   * training images only in `train`, so that no view of a validation image is trained on. Each row at most once.
   */
  split?: Split;
  /** L-BFGS only: stop when max |gradient| <= tol (default 1e-6). */
  tol?: number;
  /**
   * Train on the features standardized over the training rows ((x - mean) / std, float64 statistics; a constant
   * feature keeps std 1), then fold mean and std into the first layer, so the returned weights take raw embeddings
   * (exactly equivalent). Pooled activations are all positive with a large common offset, which Adam converges on
   * slowly. weightDecay then applies to the standardized weights. Default false.
   */
  standardize?: boolean;
  onEpoch?: (record: EpochRecord) => void;
  /** L-BFGS only: after each iteration, the objective (summed over the training rows, scikit-learn's form) and max |gradient|. */
  onIteration?: (record: { iteration: number; objective: number; gradient: number }) => void;
}

export interface HeadWeights {
  /** linear: [K, D]; mlp: the hidden layer [H, D]. Row-major [out, in]. */
  W: Float32Array;
  /** linear: [K]; mlp: [H]. */
  b: Float32Array;
  /** mlp only: [K, H]. */
  W2?: Float32Array;
  /** mlp only: [K]. */
  b2?: Float32Array;
}

/** A trained head: enough to predict, to serialize, and to fuse behind a backbone. */
export interface Head {
  kind: HeadKind;
  dim: number;
  hidden?: number;
  classes: string[];
  weights: HeadWeights;
}

export interface TrainedHead extends Head {
  history: EpochRecord[];
  /** Accuracy on the validation rows with the kept weights (NaN when val = 0). */
  valAccuracy: number;
  /** Mean cross-entropy on the validation rows with the kept weights (NaN when val = 0). */
  valLoss: number;
  trainAccuracy: number;
  /** The epoch whose weights were kept (Adam), or the L-BFGS iteration count. */
  bestEpoch: number;
  stoppedEarly: boolean;
  split: Split;
  /** Examples per class, in class order. */
  counts: number[];
  /** The options the run used, defaults filled in (no data, no callback). */
  options: ResolvedOptions;
}

export interface ResolvedOptions {
  head: HeadKind;
  hidden: number | null;
  optimizer: 'adam' | 'lbfgs';
  epochs: number;
  lr: number;
  batchSize: number;
  weightDecay: number;
  labelSmoothing: number;
  classWeights: number[] | null;
  val: number;
  patience: number;
  seed: number;
  tol: number;
  standardize: boolean;
}

/**
 * Trains a classification head on embeddings: pure TypeScript over typed arrays, no native code and no Node API, so
 * the same call runs in Node, in a page and in a Web Worker and gives the same weights bit for bit for the same input
 * and seed (every sum runs in a fixed order in float64; the weights are rounded to float32 at the end).
 */
export function trainHead(options: TrainHeadOptions): TrainedHead {
  if (typeof options !== 'object' || options === null) {
    throw new TrainError('train-input', 'trainHead', 'an options object', describe(options));
  }
  const o = resolve(options);
  const checked = checkExamples(options.embeddings, options.labels, options.classes);
  const { dim, counts } = checked;
  const k = checked.classes.length;
  const raw: Rows = { x: options.embeddings, dim, labels: checked.labels, classCount: k };
  const split = options.split
    ? checkSplit(options.split, checked.labels.length)
    : stratifiedSplit(checked.labels, k, o.val, o.seed);
  const scaling = o.standardize ? statistics(raw, split.train) : undefined;
  const data: Rows = scaling ? { ...raw, x: standardized(raw, scaling) } : raw;
  const classWeight = classWeightsFor(options.classWeights, split.train, checked.labels, checked.classes);
  o.classWeights = classWeight ? Array.from(classWeight) : null;
  let model: Trainable;
  let theta: Float64Array;
  let history: EpochRecord[] = [];
  let bestEpoch: number;
  let stoppedEarly = false;
  if (o.optimizer === 'lbfgs') {
    // weightDecay is on the mean loss; scikit-learn's sum form has l2 = weightDecay * n.
    const n = split.train.length;
    const fit = fitLinearLbfgs(data, split.train, {
      C: o.weightDecay > 0 ? 1 / (o.weightDecay * n) : Number.POSITIVE_INFINITY,
      classWeight,
      tol: o.tol,
      maxIter: o.epochs,
      ...(options.onIteration && {
        onIteration: (iteration: number, objective: number, gradient: number) =>
          options.onIteration!({ iteration, objective, gradient }),
      }),
    });
    if (!Number.isFinite(fit.f)) {
      throw new TrainError(
        'train-diverged',
        'L-BFGS',
        'a finite objective',
        String(fit.f),
        'the embeddings overflow float64 logits',
      );
    }
    model = linearModel(data);
    theta = fit.x;
    bestEpoch = fit.iterations;
  } else {
    model = o.head === 'mlp' ? mlpModel(data, o.hidden!) : linearModel(data);
    theta = o.head === 'mlp' ? mlpInit(dim, o.hidden!, k, o.seed) : new Float64Array(model.size);
    const run = trainAdam(model, data, theta, split.train, split.val, {
      epochs: o.epochs,
      lr: o.lr,
      batchSize: o.batchSize,
      patience: o.patience,
      seed: o.seed,
      terms: { l2: o.weightDecay, smoothing: o.labelSmoothing, classWeight },
      onEpoch: options.onEpoch,
    });
    theta = run.theta;
    history = run.history;
    bestEpoch = run.bestEpoch;
    stoppedEarly = run.stoppedEarly;
  }
  if (scaling) {
    fold(theta, scaling, dim, o.head === 'mlp' ? o.hidden! : k);
    model = o.head === 'mlp' ? mlpModel(raw, o.hidden!) : linearModel(raw);
  }
  const head: Head = {
    kind: o.head,
    dim,
    classes: checked.classes.slice(),
    weights: unpack(theta, o.head, dim, o.hidden ?? 0, k),
  };
  if (o.head === 'mlp') head.hidden = o.hidden!;
  // Report accuracy with the float32 weights that are returned, as predict() computes it.
  const rounded = new Float64Array(Float32Array.from(theta));
  const v =
    split.val.length > 0 ? evaluate(model, rounded, raw, split.val) : { loss: Number.NaN, accuracy: Number.NaN };
  const t = evaluate(model, rounded, raw, split.train);
  return {
    ...head,
    history,
    valAccuracy: v.accuracy,
    valLoss: v.loss,
    trainAccuracy: t.accuracy,
    bestEpoch,
    stoppedEarly,
    split,
    counts: Array.from(counts),
    options: o,
  };
}

function resolve(options: TrainHeadOptions): ResolvedOptions {
  const head = options.head ?? 'linear';
  if (head !== 'linear' && head !== 'mlp') {
    throw new TrainError('train-option', 'option head', "'linear' or 'mlp'", describe(head));
  }
  const optimizer = options.optimizer ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'lbfgs') {
    throw new TrainError('train-option', 'option optimizer', "'adam' or 'lbfgs'", describe(optimizer));
  }
  if (optimizer === 'lbfgs' && head !== 'linear') {
    throw new TrainError(
      'train-option',
      'option optimizer',
      "'adam' for an mlp head",
      "'lbfgs'",
      'L-BFGS fits the linear head only',
    );
  }
  if (options.hidden !== undefined && head !== 'mlp') {
    throw new TrainError(
      'train-option',
      'option hidden',
      "no hidden size for head 'linear'",
      describe(options.hidden),
      "use head: 'mlp'",
    );
  }
  const r: ResolvedOptions = {
    head,
    hidden: head === 'mlp' ? checkInt('hidden', options.hidden ?? 100, 1) : null,
    optimizer,
    epochs: checkInt('epochs', options.epochs ?? (optimizer === 'lbfgs' ? 1000 : 50), 1),
    lr: checkNumber('lr', options.lr ?? 0.001, 0, Number.POSITIVE_INFINITY, false, true),
    batchSize: checkInt('batchSize', options.batchSize ?? 32, 1),
    weightDecay: checkNumber('weightDecay', options.weightDecay ?? 0, 0, Number.POSITIVE_INFINITY),
    labelSmoothing: checkNumber('labelSmoothing', options.labelSmoothing ?? 0, 0, 1, true),
    classWeights: null,
    val: checkNumber('val', options.val ?? 0.15, 0, 1, true),
    patience: checkInt('patience', options.patience ?? 10, 1),
    seed: checkInt('seed', options.seed ?? 0, 0),
    tol: checkNumber('tol', options.tol ?? 1e-6, 0, Number.POSITIVE_INFINITY),
    standardize: options.standardize ?? false,
  };
  if (typeof r.standardize !== 'boolean')
    throw new TrainError('train-option', 'option standardize', 'true or false', describe(options.standardize));
  if (r.seed > 0xffffffff)
    throw new TrainError('train-option', 'option seed', 'an integer in [0, 2^32)', String(r.seed));
  return r;
}

/** scikit-learn's 'balanced' weights from the training rows, n / (K * n_c), or the given ones checked. */
function classWeightsFor(
  spec: TrainHeadOptions['classWeights'],
  train: Int32Array,
  labels: Int32Array,
  classes: string[],
): Float64Array | null {
  if (spec === undefined) return null;
  const k = classes.length;
  if (spec === 'balanced') {
    const counts = new Float64Array(k);
    for (let i = 0; i < train.length; i++) counts[labels[train[i]!]!]!++;
    return counts.map((c) => train.length / (k * c));
  }
  if (!Array.isArray(spec) || spec.length !== k) {
    throw new TrainError(
      'train-option',
      'option classWeights',
      `'balanced' or an array of ${k} weights (one per class)`,
      describe(spec),
    );
  }
  spec.forEach((w, c) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) {
      throw new TrainError(
        'train-option',
        `option classWeights[${c}] (class "${classes[c]}")`,
        'a finite number > 0',
        describe(w),
      );
    }
  });
  return Float64Array.from(spec);
}

function unpack(theta: Float64Array, kind: HeadKind, dim: number, hidden: number, k: number): HeadWeights {
  const f = Float32Array.from(theta);
  if (kind === 'linear') return { W: f.slice(0, k * dim), b: f.slice(k * dim) };
  const oB1 = hidden * dim;
  const oW2 = oB1 + hidden;
  const oB2 = oW2 + k * hidden;
  return { W: f.slice(0, oB1), b: f.slice(oB1, oW2), W2: f.slice(oW2, oB2), b2: f.slice(oB2) };
}

export interface Prediction {
  /** N x K softmax probabilities, row-major. */
  probabilities: Float32Array;
  /** N predicted class indices (the first largest probability). */
  labels: Int32Array;
  classes: string[];
}

/**
 * The head's softmax probabilities for N rows of D values: computed in float64 from the float32 weights, in the same
 * order as training, then rounded to float32.
 */
export function predict(head: Head, embeddings: Float32Array): Prediction {
  const { dim, classes } = head;
  const k = classes.length;
  if (!(embeddings instanceof Float32Array)) {
    throw new TrainError('train-input', 'embeddings', 'a Float32Array', describe(embeddings));
  }
  if (embeddings.length % dim !== 0) {
    throw new TrainError(
      'train-input',
      'embeddings',
      `a multiple of the head's ${dim} inputs`,
      `${embeddings.length} values`,
    );
  }
  for (let i = 0; i < embeddings.length; i++) {
    if (!Number.isFinite(embeddings[i]!)) {
      const row = Math.floor(i / dim);
      throw new TrainError(
        'train-input',
        `embeddings[${i}] (example ${row}, feature ${i - row * dim})`,
        'a finite number',
        String(embeddings[i]),
      );
    }
  }
  const w = head.weights;
  const hidden = head.kind === 'mlp' ? (head.hidden ?? w.b.length) : 0;
  const expect = (name: string, a: Float32Array | undefined, len: number): Float32Array => {
    if (!(a instanceof Float32Array) || a.length !== len) {
      throw new TrainError('train-input', `head.weights.${name}`, `a Float32Array of ${len}`, describe(a));
    }
    return a;
  };
  let theta: Float64Array;
  if (head.kind === 'linear') {
    theta = new Float64Array(k * dim + k);
    theta.set(expect('W', w.W, k * dim));
    theta.set(expect('b', w.b, k), k * dim);
  } else {
    const oB1 = hidden * dim;
    const oW2 = oB1 + hidden;
    const oB2 = oW2 + k * hidden;
    theta = new Float64Array(oB2 + k);
    theta.set(expect('W', w.W, oB1));
    theta.set(expect('b', w.b, hidden), oB1);
    theta.set(expect('W2', w.W2, k * hidden), oW2);
    theta.set(expect('b2', w.b2, k), oB2);
  }
  const n = embeddings.length / dim;
  const data: Rows = { x: embeddings, dim, labels: new Int32Array(n), classCount: k };
  const model = head.kind === 'linear' ? linearModel(data) : mlpModel(data, hidden);
  const z = new Float64Array(k);
  const probabilities = new Float32Array(n * k);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    model.logits(theta, i, z);
    softmaxInPlace(z, k);
    labels[i] = argmax(z, k);
    for (let c = 0; c < k; c++) probabilities[i * k + c] = z[c]!;
  }
  return { probabilities, labels, classes: classes.slice() };
}

/** A given split: row indices in range, each used at most once, at least one training row. */
function checkSplit(split: Split, n: number): Split {
  const seen = new Uint8Array(n);
  for (const [part, rows] of [
    ['train', split.train],
    ['val', split.val],
  ] as const) {
    if (!(rows instanceof Int32Array))
      throw new TrainError('train-option', `option split.${part}`, 'an Int32Array of row indices', describe(rows));
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r < 0 || r >= n || seen[r])
        throw new TrainError(
          'train-option',
          `option split.${part}[${i}]`,
          `a row index in [0, ${n}) used once`,
          String(r),
        );
      seen[r] = 1;
    }
  }
  if (split.train.length === 0) throw new TrainError('train-option', 'option split.train', 'at least one row', '0');
  return { train: split.train, val: split.val };
}
