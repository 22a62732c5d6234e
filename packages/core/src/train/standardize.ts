// `standardize`: train on features scaled to mean 0 and std 1 over the training rows, then fold the scaling back into
// the first layer so the exported head takes raw embeddings.
import type { Rows } from './softmax.js';

/** Per-feature mean and standard deviation over `rows` (float64, rows in order); a constant feature gets std 1. */
export function statistics(data: Rows, rows: Int32Array): { mean: Float64Array; std: Float64Array } {
  const { x, dim } = data;
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (const r of rows) for (let d = 0; d < dim; d++) mean[d]! += x[r * dim + d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= rows.length;
  for (const r of rows)
    for (let d = 0; d < dim; d++) {
      const c = x[r * dim + d]! - mean[d]!;
      std[d]! += c * c;
    }
  for (let d = 0; d < dim; d++) {
    const s = Math.sqrt(std[d]! / rows.length);
    std[d] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

/** The rows as (x - mean) / std, feature by feature. */
export function standardized(data: Rows, s: { mean: Float64Array; std: Float64Array }): Float32Array {
  const { x, dim } = data;
  const z = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) z[i] = (x[i]! - s.mean[i % dim]!) / s.std[i % dim]!;
  return z;
}

/**
 * The first layer's weights for raw inputs: w.((x - m) / s) + b = (w / s).x + (b - sum w m / s), in place on theta
 * (rows [out, in] first, then the out biases).
 */
export function fold(
  theta: Float64Array,
  s: { mean: Float64Array; std: Float64Array },
  dim: number,
  out: number,
): void {
  for (let r = 0; r < out; r++) {
    let shift = 0;
    for (let d = 0; d < dim; d++) {
      const w = theta[r * dim + d]! / s.std[d]!;
      theta[r * dim + d] = w;
      shift += w * s.mean[d]!;
    }
    theta[out * dim + r]! -= shift;
  }
}
