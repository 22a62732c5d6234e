/**
 * out[at + o] = b[o] + sum_j W[o, j] x[xo + j] for o < outs: W row-major [outs, dim] at theta[wOff..], b at
 * theta[bOff..]. Four outputs per pass over the row, then one at a time; each sum still runs over j in order from its
 * bias, so the result is the same bit for bit in every JavaScript engine (the page and Node train alike).
 */
export function affine(
  theta: Float64Array,
  wOff: number,
  bOff: number,
  outs: number,
  x: ArrayLike<number>,
  xo: number,
  dim: number,
  out: Float64Array,
  at: number,
): void {
  let o = 0;
  for (; o + 3 < outs; o += 4) {
    const w0 = wOff + o * dim;
    const w1 = w0 + dim;
    const w2 = w1 + dim;
    const w3 = w2 + dim;
    let s0 = theta[bOff + o]!;
    let s1 = theta[bOff + o + 1]!;
    let s2 = theta[bOff + o + 2]!;
    let s3 = theta[bOff + o + 3]!;
    for (let j = 0; j < dim; j++) {
      const v = x[xo + j]!;
      s0 += theta[w0 + j]! * v;
      s1 += theta[w1 + j]! * v;
      s2 += theta[w2 + j]! * v;
      s3 += theta[w3 + j]! * v;
    }
    out[at + o] = s0;
    out[at + o + 1] = s1;
    out[at + o + 2] = s2;
    out[at + o + 3] = s3;
  }
  for (; o < outs; o++) {
    const wo = wOff + o * dim;
    let s = theta[bOff + o]!;
    for (let j = 0; j < dim; j++) s += theta[wo + j]! * x[xo + j]!;
    out[at + o] = s;
  }
}

/**
 * The gradient of one output's weight row: grad[wo + j] += sum_i coef[i * stride + col] * x[rows[i] * dim + j], four
 * rows per pass and rows in order; returns sum_i coef[i * stride + col] (the bias gradient). A group of rows whose
 * coefficients are all zero is skipped: adding zeros changes no value, and ReLU zeroes most of a hidden layer's.
 */
export function accumulateRows(
  grad: Float64Array,
  wo: number,
  coef: Float64Array,
  stride: number,
  col: number,
  rows: ArrayLike<number>,
  n: number,
  x: ArrayLike<number>,
  dim: number,
): number {
  let gb = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const g0 = coef[i * stride + col]!;
    const g1 = coef[(i + 1) * stride + col]!;
    const g2 = coef[(i + 2) * stride + col]!;
    const g3 = coef[(i + 3) * stride + col]!;
    gb = gb + g0 + g1 + g2 + g3;
    if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) continue;
    const x0 = rows[i]! * dim;
    const x1 = rows[i + 1]! * dim;
    const x2 = rows[i + 2]! * dim;
    const x3 = rows[i + 3]! * dim;
    for (let j = 0; j < dim; j++) {
      grad[wo + j] = grad[wo + j]! + (g0 * x[x0 + j]! + g1 * x[x1 + j]! + g2 * x[x2 + j]! + g3 * x[x3 + j]!);
    }
  }
  for (; i < n; i++) {
    const g = coef[i * stride + col]!;
    gb += g;
    if (g === 0) continue;
    const xo = rows[i]! * dim;
    for (let j = 0; j < dim; j++) grad[wo + j] = grad[wo + j]! + g * x[xo + j]!;
  }
  return gb;
}
