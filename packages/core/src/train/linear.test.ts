import { describe, expect, it } from 'vitest';
import { f64, features, readHeads, trainIndices } from '../../test/fixtures/train/read.js';
import { trainHead } from './head.js';
import { fitLinearLbfgs, linearModel } from './linear.js';
import { argmax } from './softmax.js';

const { data, missing } = readHeads();
if (missing) console.warn(`linear.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('L-BFGS linear head against scikit-learn 1.2 (fixtures/train/heads.json)', () => {
  for (const name of ['digits', 'lfw', 'digits-imbalanced'] as const) {
    it(`${name}: same objective, accuracy and coefficients as LogisticRegression(multinomial, lbfgs, C=1)`, () => {
      const c = data!.cases[name];
      const k = c.classes.length;
      const rows = { x: features(c), dim: c.d, labels: Int32Array.from(c.labels), classCount: k };
      const train = trainIndices(c);
      const classWeight = c.sample_weight_per_class ? Float64Array.from(c.sample_weight_per_class) : null;
      // Our objective at scikit-learn's solution is scikit-learn's objective: the formula is the same (measured 1e-15).
      const atSklearn = new Float64Array(k * c.d + k);
      atSklearn.set(f64(c.coef));
      atSklearn.set(f64(c.intercept), k * c.d);
      const terms = { scale: 1, l2: 1 / c.C, smoothing: 0, classWeight };
      const ours = linearModel(rows).lossGrad(atSklearn, null, train, terms);
      expect(Math.abs(ours - c.objective) / c.objective).toBeLessThan(1e-12);
      const fit = fitLinearLbfgs(rows, train, { C: c.C, tol: 1e-10, maxIter: 10000, classWeight });
      // The objective: measured 6e-10 (digits), -2e-8 (lfw), -4e-8 (imbalanced) relative.
      expect(Math.abs(fit.f - c.objective) / c.objective).toBeLessThan(1e-6);
      const coef = f64(c.coef);
      const intercept = f64(c.intercept);
      let dW = 0;
      let scale = 0;
      for (let i = 0; i < coef.length; i++) {
        dW = Math.max(dW, Math.abs(coef[i]! - fit.W[i]!));
        scale = Math.max(scale, Math.abs(coef[i]!));
      }
      let db = 0;
      for (let i = 0; i < k; i++) db = Math.max(db, Math.abs(intercept[i]! - fit.b[i]!));
      // Both stop on scipy's relative-decrease rule before the gradient is tiny: measured max |dW| 7e-4 of 2.7 (digits),
      // 4e-5 of 0.29 (lfw); intercepts 5e-3, 5e-5.
      expect(dW / scale).toBeLessThan(1e-3);
      expect(db).toBeLessThan(2e-2);
      // The accuracies and predictions.
      const logits = new Float64Array(k);
      const acc = (idx: ArrayLike<number>, out?: number[]) => {
        let hit = 0;
        for (let n = 0; n < idx.length; n++) {
          const r = idx[n]!;
          for (let cl = 0; cl < k; cl++) {
            let s = fit.b[cl]!;
            for (let j = 0; j < c.d; j++) s += fit.W[cl * c.d + j]! * rows.x[r * c.d + j]!;
            logits[cl] = s;
          }
          const p = argmax(logits, k);
          out?.push(p);
          if (p === rows.labels[r]) hit++;
        }
        return hit / idx.length;
      };
      const predictions: number[] = [];
      const valAccuracy = acc(c.val_indices, predictions);
      expect(Math.abs(valAccuracy - c.val_accuracy)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(acc(train) - c.train_accuracy)).toBeLessThanOrEqual(0.01);
      const disagree = predictions.filter((p, i) => p !== c.val_predictions[i]).length;
      expect(disagree).toBeLessThanOrEqual(1);
      console.log(
        `${name}: objective ${fit.f.toPrecision(10)} vs sklearn ${c.objective.toPrecision(10)} ` +
          `(rel ${((fit.f - c.objective) / c.objective).toExponential(1)}), ${fit.iterations} iterations ` +
          `(sklearn ${c.n_iter}), val acc ${valAccuracy.toFixed(4)} vs ${c.val_accuracy.toFixed(4)}, ` +
          `max |dW| ${dW.toExponential(1)}, max |db| ${db.toExponential(1)}`,
      );
    });
  }

  it("trainHead({ optimizer: 'lbfgs', weightDecay: 1 / (C n) }) minimizes the same objective on its own split", () => {
    const c = data!.cases.lfw;
    const embeddings = features(c);
    const labels = Int32Array.from(c.labels);
    const head = trainHead({
      embeddings,
      labels,
      classes: c.classes,
      optimizer: 'lbfgs',
      weightDecay: 1 / 170,
      val: 0.15,
      tol: 1e-8,
    });
    expect(head.split.train.length).toBe(170);
    const direct = fitLinearLbfgs({ x: embeddings, dim: c.d, labels, classCount: 2 }, head.split.train, {
      C: 1,
      tol: 1e-8,
      maxIter: 1000,
    });
    expect(head.weights.W).toEqual(Float32Array.from(direct.W));
    expect(head.valAccuracy).toBeGreaterThan(0.85);
  });
});
