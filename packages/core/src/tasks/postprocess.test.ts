import { describe, expect, it } from 'vitest';
import { topK } from './postprocess.js';

/** The definition: every index sorted by value, highest first, ties by lower index. */
const bySort = (v: ArrayLike<number>, k: number) =>
  Array.from({ length: v.length }, (_, i) => i)
    .sort((a, b) => v[b]! - v[a]! || a - b)
    .slice(0, k);

describe('topK', () => {
  it('keeps the sort order (highest first, ties by lower index) for few and many classes, on many seeded rows', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rand() * 1200);
      // Values on a coarse grid, so that ties are common; some -Infinity.
      const row = Float32Array.from({ length: n }, () => (rand() < 0.02 ? -Infinity : Math.floor(rand() * 20) / 20));
      for (const k of [0, 1, 5, 16, 17, 100, n + 3]) {
        const got = topK(row, k, []).map((p) => p.index);
        expect(got, `n ${n} k ${k}`).toEqual(bySort(row, k));
      }
    }
  });

  it('gives labels and probabilities, and class N where a label is missing', () => {
    expect(topK([0.1, 0.7, 0.2], 2, ['a', 'b'])).toEqual([
      { index: 1, label: 'b', probability: 0.7 },
      { index: 2, label: 'class 2', probability: 0.2 },
    ]);
  });
});
