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
