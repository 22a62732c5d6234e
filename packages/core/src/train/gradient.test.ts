import { describe, expect, it } from 'vitest';
import { linearModel } from './linear.js';
import { mlpInit, mlpModel } from './mlp.js';
import { Rng } from './rng.js';
import type { LossTerms, Trainable } from './softmax.js';

/** Central differences against the analytic gradient, on every parameter. */
function check(model: Trainable, theta: Float64Array, rows: Int32Array, terms: LossTerms): number {
  const grad = new Float64Array(model.size);
  model.lossGrad(theta, grad, rows, terms);
  let worst = 0;
  for (let i = 0; i < model.size; i++) {
    const keep = theta[i]!;
    const h = 1e-6 * Math.max(1, Math.abs(keep));
    theta[i] = keep + h;
    const up = model.lossGrad(theta, null, rows, terms);
    theta[i] = keep - h;
    const down = model.lossGrad(theta, null, rows, terms);
    theta[i] = keep;
    const numeric = (up - down) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - grad[i]!) / Math.max(1e-3, Math.abs(numeric)));
  }
  return worst;
}

describe('analytic gradients equal central differences', () => {
  const rng = new Rng(21);
  const n = 11;
  const dim = 6;
  const k = 4;
  const x = Float32Array.from({ length: n * dim }, () => 2 * rng.nextFloat() - 1);
  const labels = Int32Array.from({ length: n }, (_, i) => i % k);
  const data = { x, dim, labels, classCount: k };
  const rows = Int32Array.from([0, 3, 5, 1, 2, 9, 10, 4, 6]);
  const terms: LossTerms = { scale: 1 / 9, l2: 0.3, smoothing: 0.1, classWeight: Float64Array.from([1, 2, 0.5, 1.5]) };

  it('linear (5 rows per pass and a remainder, smoothing, class weights, L2)', () => {
    const model = linearModel(data);
    const theta = Float64Array.from({ length: model.size }, () => rng.nextFloat() - 0.5);
    expect(check(model, theta, rows, terms)).toBeLessThan(1e-6);
  });

  it('mlp (hidden 7: four units per pass and a remainder)', () => {
    const model = mlpModel(data, 7);
    const theta = mlpInit(dim, 7, k, 4);
    expect(check(model, theta, rows, terms)).toBeLessThan(1e-5);
  });
});
