import { accumulateRows, affine } from './affine.js';
import { type LbfgsResult, minimizeLbfgs } from './lbfgs.js';
import { type LossTerms, type Rows, softmaxCrossEntropy, type Trainable } from './softmax.js';

/**
 * Multinomial logistic regression: z = W x + b, W [K, D] row-major ([out, in], as PyTorch's nn.Linear and ONNX Gemm
 * with transB = 1), b [K]. Parameters are one Float64Array theta = [W (K * D), b (K)], the layout of
 * scikit-learn's coef_ followed by intercept_.
 */
export function linearModel(data: Rows): Trainable {
  const { x, dim, labels, classCount: k } = data;
  const bOff = k * dim;
  const z = new Float64Array(k);
  const dz = new Float64Array(k);
  let dzAll = new Float64Array(0);
  const logits = (theta: Float64Array, row: number, out: Float64Array): void =>
    affine(theta, 0, bOff, k, x, row * dim, dim, out, 0);
  return {
    size: k * dim + k,
    logits,
    lossGrad(theta, grad, rows, terms: LossTerms) {
      const n = rows.length;
      if (grad && dzAll.length < n * k) dzAll = new Float64Array(n * k);
      let data = 0;
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        const y = labels[r]!;
        logits(theta, r, z);
        data += softmaxCrossEntropy(z, k, y, terms.smoothing, terms.classWeight ? terms.classWeight[y]! : 1, dz);
        if (grad) for (let c = 0; c < k; c++) dzAll[i * k + c] = terms.scale * dz[c]!;
      }
      if (grad) {
        // dL/dW[c] = sum over rows of dz[i, c] x_i, four rows per pass over the class's gradient row, rows in order.
        for (let c = 0; c < k; c++) {
          grad.fill(0, c * dim, (c + 1) * dim);
          grad[bOff + c] = accumulateRows(grad, c * dim, dzAll, k, c, rows, n, x, dim);
        }
      }
      let norm2 = 0;
      for (let i = 0; i < bOff; i++) norm2 += theta[i]! * theta[i]!;
      if (grad && terms.l2 !== 0) for (let i = 0; i < bOff; i++) grad[i] = grad[i]! + terms.l2 * theta[i]!;
      return terms.scale * data + 0.5 * terms.l2 * norm2;
    },
  };
}

export interface LbfgsFitOptions {
  /** Inverse L2 strength, scikit-learn's C (default 1). */
  C?: number;
  /** A weight per class (scikit-learn's class_weight as an array), default none. */
  classWeight?: Float64Array | null;
  /** Stop when max |gradient| <= tol (scipy's gtol; scikit-learn's tol, default 1e-4). */
  tol?: number;
  /** Iteration limit (scikit-learn's max_iter, default 100). */
  maxIter?: number;
  /** Progress after each iteration: the objective and max |gradient|. */
  onIteration?: (iteration: number, f: number, gmax: number) => void;
}

export interface LbfgsFit extends LbfgsResult {
  /** [K, D] row-major. */
  W: Float64Array;
  b: Float64Array;
}

/**
 * Fits the multinomial logistic regression that scikit-learn 1.2's
 * LogisticRegression(multi_class='multinomial', solver='lbfgs', C, tol, max_iter, class_weight) fits: minimizes
 *     sum_i w[y_i] * (logsumexp(z_i) - z_i[y_i]) + 1 / (2C) * ||W||^2      (intercepts not penalized)
 * over the rows, from zero, with L-BFGS (m = 10, scipy's stopping rules). Deterministic: fixed float order.
 */
export function fitLinearLbfgs(data: Rows, rows: Int32Array, options: LbfgsFitOptions = {}): LbfgsFit {
  const C = options.C ?? 1;
  const model = linearModel(data);
  const terms: LossTerms = { scale: 1, l2: 1 / C, smoothing: 0, classWeight: options.classWeight ?? null };
  const result = minimizeLbfgs(
    (theta, grad) => model.lossGrad(theta, grad, rows, terms),
    new Float64Array(model.size),
    {
      gtol: options.tol ?? 1e-4,
      maxIter: options.maxIter ?? 100,
      ...(options.onIteration && { onIteration: options.onIteration }),
    },
  );
  const kd = data.classCount * data.dim;
  return { ...result, W: result.x.slice(0, kd), b: result.x.slice(kd) };
}
