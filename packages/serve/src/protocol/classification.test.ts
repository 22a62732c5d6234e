// The top-k selection (a short sorted list, not a full sort) ranks exactly as a full sort by Triton's order would:
// higher first, ties to the lower index, NaN last; for small k and large, with ties and NaNs.
import { describe, expect, it } from 'vitest';
import { classify } from './classification.js';

function reference(row: Float32Array, k: number): number[] {
  const idx = Array.from(row, (_, i) => i);
  idx.sort((a, b) => {
    const na = Number.isNaN(row[a]!);
    const nb = Number.isNaN(row[b]!);
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return row[b]! - row[a]! || a - b;
  });
  return idx.slice(0, k);
}

describe('classification top-k', () => {
  it('equals a full sort on 300 random rows with ties and NaNs, k from 1 to 1000', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rand() * 1000);
      const row = Float32Array.from({ length: n }, () => {
        const r = rand();
        return r < 0.02 ? Number.NaN : Math.round(rand() * 20) / 4; // many ties
      });
      const k = [1, 2, 5, 10, 64, 65, 1000][t % 7]!;
      const got = classify({ name: 'y', datatype: 'FP32', shape: [n], data: row }, k, { batched: false });
      const indices = (got.data as Uint8Array[]).map((b) => Number(new TextDecoder().decode(b).split(':')[1]));
      expect(indices).toEqual(reference(row, k));
    }
  });
});
