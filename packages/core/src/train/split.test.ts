import { describe, expect, it } from 'vitest';
import { TrainError } from './errors.js';
import { Rng } from './rng.js';
import { stratifiedSplit } from './split.js';

const counts = [2, 3, 7, 10, 41, 100];
const labels = Int32Array.from(counts.flatMap((n, c) => new Array<number>(n).fill(c)));
// Interleave the classes so that rows of one class are not contiguous.
new Rng(99).shuffle(labels);

describe('stratifiedSplit', () => {
  it('takes round(val * n_c) of every class, at least 1 and at most n_c - 1, and covers every row once', () => {
    for (const val of [0.1, 0.15, 0.5, 0.9]) {
      const { train, val: v } = stratifiedSplit(labels, counts.length, val, 5);
      expect(train.length + v.length).toBe(labels.length);
      const all = new Set([...train, ...v]);
      expect(all.size).toBe(labels.length);
      for (const a of [train, v]) for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThan(a[i - 1]!);
      counts.forEach((n, c) => {
        const got = Array.from(v).filter((r) => labels[r] === c).length;
        expect(got, `class ${c} (n=${n}) at val=${val}`).toBe(Math.min(n - 1, Math.max(1, Math.round(val * n))));
      });
    }
  });

  it('is seeded: the same seed gives the same split, another seed another', () => {
    const a = stratifiedSplit(labels, counts.length, 0.2, 1);
    const b = stratifiedSplit(labels, counts.length, 0.2, 1);
    const c = stratifiedSplit(labels, counts.length, 0.2, 2);
    expect(Array.from(a.val)).toEqual(Array.from(b.val));
    expect(Array.from(a.val)).not.toEqual(Array.from(c.val));
    expect(a.val.length).toBe(c.val.length);
    // Pinned: a change in the generator or the draw order changes every user's split; it must be deliberate.
    expect(Array.from(stratifiedSplit(Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]), 2, 0.5, 0).val)).toEqual([
      1, 3, 4, 6, 7,
    ]);
  });

  it('val = 0 keeps every row for training; val outside [0, 1) and a class of one row are refused', () => {
    const { train, val } = stratifiedSplit(labels, counts.length, 0, 3);
    expect(val.length).toBe(0);
    expect(train.length).toBe(labels.length);
    expect(() => stratifiedSplit(labels, counts.length, 1, 0)).toThrow(
      /option val: expected a fraction in \[0, 1\), received 1/,
    );
    expect(() => stratifiedSplit(labels, counts.length, Number.NaN, 0)).toThrow(TrainError);
    expect(() => stratifiedSplit(Int32Array.from([0, 0, 1]), 2, 0.5, 0)).toThrow(
      /class 1: expected at least 2 examples, received 1/,
    );
  });
});
