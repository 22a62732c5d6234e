import { TrainError } from './errors.js';
import { Rng } from './rng.js';
import { evaluate, type LossTerms, type Rows, type Trainable } from './softmax.js';

/** The stream of the seeded generator that orders each epoch's mini-batches. */
export const SHUFFLE_STREAM = 2;

/**
 * Adam (Kingma & Ba 2015) as PyTorch's torch.optim.Adam computes it: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
 * theta -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). Weight decay is not here: it is the L2 term of the
 * objective (coupled, on weights only, never biases), so a converged linear head is scikit-learn's solution.
 */
export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  /** beta1^t and beta2^t as running products (exact same bits in every engine, unlike Math.pow). */
  private b1t = 1;
  private b2t = 1;

  constructor(
    size: number,
    readonly lr: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(theta: Float64Array, grad: Float64Array): void {
    const { m, v, beta1, beta2, eps, lr } = this;
    this.b1t *= beta1;
    this.b2t *= beta2;
    const c1 = 1 - this.b1t;
    const c2 = 1 - this.b2t;
    for (let i = 0; i < theta.length; i++) {
      const g = grad[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      theta[i] = theta[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
  }
}

export interface EpochRecord {
  epoch: number;
  /** The objective Adam minimized (smoothed, class-weighted mean cross-entropy + L2), averaged over the epoch's batches. */
  loss: number;
  /** Mean cross-entropy on the validation rows (no smoothing, no class weights, no L2); NaN without validation. */
  valLoss: number;
  /** NaN without validation rows. */
  valAccuracy: number;
}

export interface AdamLoopOptions {
  epochs: number;
  lr: number;
  batchSize: number;
  /** Stop after this many epochs without a lower validation loss (and restore the best epoch's weights). */
  patience: number;
  seed: number;
  terms: Omit<LossTerms, 'scale'>;
  onEpoch?: ((record: EpochRecord) => void) | undefined;
}

export interface AdamLoopResult {
  theta: Float64Array;
  history: EpochRecord[];
  /** The epoch whose weights were kept (the lowest validation loss; the last epoch without validation). */
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * Mini-batch Adam over `train` rows: each epoch visits the rows in an order drawn by Rng(seed, SHUFFLE_STREAM) (one
 * generator for the whole run), in batches of batchSize (the last one smaller); each batch's objective is its mean.
 * After each epoch, the validation loss decides early stopping. A NaN or infinite loss stops the run with an error
 * that names the learning rate and suggests one ten times smaller.
 */
export function trainAdam(
  model: Trainable,
  data: Rows,
  theta: Float64Array,
  train: Int32Array,
  val: Int32Array,
  options: AdamLoopOptions,
): AdamLoopResult {
  const adam = new Adam(model.size, options.lr);
  const rng = new Rng(options.seed, SHUFFLE_STREAM);
  const order = train.slice();
  const grad = new Float64Array(model.size);
  const history: EpochRecord[] = [];
  let best = theta.slice();
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let stale = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    rng.shuffle(order);
    let sum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.subarray(start, Math.min(order.length, start + options.batchSize));
      const loss = model.lossGrad(theta, grad, batch, { ...options.terms, scale: 1 / batch.length });
      if (!Number.isFinite(loss)) diverged(options.lr, `epoch ${epoch}, batch ${batches + 1}`, loss, 'training loss');
      adam.step(theta, grad);
      sum += loss;
      batches++;
    }
    const v = val.length > 0 ? evaluate(model, theta, data, val) : { loss: Number.NaN, accuracy: Number.NaN };
    if (val.length > 0 && !Number.isFinite(v.loss))
      diverged(options.lr, `epoch ${epoch}, validation`, v.loss, 'validation loss');
    const record: EpochRecord = { epoch, loss: sum / batches, valLoss: v.loss, valAccuracy: v.accuracy };
    history.push(record);
    options.onEpoch?.(record);
    if (val.length === 0) {
      bestEpoch = epoch;
      continue;
    }
    if (v.loss < bestLoss) {
      bestLoss = v.loss;
      best = theta.slice();
      bestEpoch = epoch;
      stale = 0;
    } else if (++stale >= options.patience) {
      return { theta: best, history, bestEpoch, stoppedEarly: true };
    }
  }
  return { theta: val.length > 0 ? best : theta, history, bestEpoch, stoppedEarly: false };
}

function diverged(lr: number, where: string, loss: number, what: string): never {
  throw new TrainError(
    'train-diverged',
    where,
    `a finite ${what}`,
    String(loss),
    `the learning rate ${lr} is too high for these embeddings: try lr ${lr / 10}`,
  );
}
