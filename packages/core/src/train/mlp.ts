import { accumulateRows, affine } from './affine.js';
import { Rng } from './rng.js';
import { type LossTerms, type Rows, softmaxCrossEntropy, type Trainable } from './softmax.js';

/** The stream of the seeded generator that draws an MLP's initial weights. */
export const INIT_STREAM = 3;

/**
 * One hidden layer: h = relu(W1 x + b1), z = W2 h + b2. W1 [H, D], b1 [H], W2 [K, H], b2 [K], row-major [out, in].
 * Parameters are one Float64Array theta = [W1, b1, W2, b2]. L2 covers W1 and W2, not the biases.
 */
export function mlpModel(data: Rows, hidden: number): Trainable {
  const { x, dim, labels, classCount: k } = data;
  const h = hidden;
  const oB1 = h * dim;
  const oW2 = oB1 + h;
  const oB2 = oW2 + k * h;
  const size = oB2 + k;
  const z = new Float64Array(k);
  const dz = new Float64Array(k);
  let actAll = new Float64Array(h);
  let dhAll = new Float64Array(0);
  /** The row's hidden activations into actAll[at..at+h), then its logits into out. */
  const forward = (theta: Float64Array, row: number, out: Float64Array, at = 0): void => {
    affine(theta, 0, oB1, h, x, row * dim, dim, actAll, at);
    for (let u = 0; u < h; u++) actAll[at + u] = Math.max(actAll[at + u]!, 0);
    for (let c = 0; c < k; c++) {
      const wo = oW2 + c * h;
      let s = theta[oB2 + c]!;
      for (let v = 0; v < h; v++) s += theta[wo + v]! * actAll[at + v]!;
      out[c] = s;
    }
  };
  return {
    size,
    logits: (theta, row, out) => forward(theta, row, out, 0),
    lossGrad(theta, grad, rows, terms: LossTerms) {
      const n = rows.length;
      if (grad && actAll.length < n * h) actAll = new Float64Array(n * h);
      if (grad && dhAll.length < n * h) dhAll = new Float64Array(n * h);
      if (grad) grad.fill(0);
      let data = 0;
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        const y = labels[r]!;
        const at = grad ? i * h : 0;
        forward(theta, r, z, at);
        data += softmaxCrossEntropy(z, k, y, terms.smoothing, terms.classWeight ? terms.classWeight[y]! : 1, dz);
        if (!grad) continue;
        // Output layer: W2 and b2 gradients row by row; dh = W2^T dz where the unit is active.
        for (let u = 0; u < h; u++) dhAll[at + u] = 0;
        for (let c = 0; c < k; c++) {
          const g = terms.scale * dz[c]!;
          grad[oB2 + c] = grad[oB2 + c]! + g;
          const wo = oW2 + c * h;
          for (let u = 0; u < h; u++) {
            grad[wo + u] = grad[wo + u]! + g * actAll[at + u]!;
            dhAll[at + u] = dhAll[at + u]! + g * theta[wo + u]!;
          }
        }
        for (let u = 0; u < h; u++) if (!(actAll[at + u]! > 0)) dhAll[at + u] = 0;
      }
      if (grad) {
        // Hidden layer: dL/dW1[u] = sum over rows of dh[i, u] x_i, four rows per pass, rows in order.
        for (let u = 0; u < h; u++) grad[oB1 + u] = accumulateRows(grad, u * dim, dhAll, h, u, rows, n, x, dim);
      }
      let norm2 = 0;
      for (let i = 0; i < oB1; i++) norm2 += theta[i]! * theta[i]!;
      for (let i = oW2; i < oB2; i++) norm2 += theta[i]! * theta[i]!;
      if (grad && terms.l2 !== 0) {
        for (let i = 0; i < oB1; i++) grad[i] = grad[i]! + terms.l2 * theta[i]!;
        for (let i = oW2; i < oB2; i++) grad[i] = grad[i]! + terms.l2 * theta[i]!;
      }
      return terms.scale * data + 0.5 * terms.l2 * norm2;
    },
  };
}

/**
 * PyTorch's nn.Linear initialisation, seeded: every weight and bias of a layer with fan_in inputs uniform in
 * [-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn by Rng(seed, INIT_STREAM) in parameter order (W1, b1, W2, b2).
 */
export function mlpInit(dim: number, hidden: number, classCount: number, seed: number): Float64Array {
  const rng = new Rng(seed, INIT_STREAM);
  const theta = new Float64Array(hidden * dim + hidden + classCount * hidden + classCount);
  const b1 = 1 / Math.sqrt(dim);
  const b2 = 1 / Math.sqrt(hidden);
  const first = hidden * dim + hidden;
  for (let i = 0; i < theta.length; i++) {
    const bound = i < first ? b1 : b2;
    theta[i] = bound * (2 * rng.nextFloat() - 1);
  }
  return theta;
}
