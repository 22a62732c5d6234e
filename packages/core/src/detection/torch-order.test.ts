import { describe, expect, it } from 'vitest';
import { type F32Record, f32, readFixture } from '../fixtures/detection/read.js';
import { torchSortDescending, torchTopk } from './torch-order.js';

interface SortFixture {
  sort: { values: F32Record; order: number[] }[];
  topk: { values: F32Record; k: number; indices: number[] }[];
}

const { data, missing } = readFixture<SortFixture>('sort.json');
if (missing) console.warn(`torch-order.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('torch 1.13 CPU sort and topk orders (fixtures/detection/sort.json)', () => {
  it('torch.sort(descending=True) index order, equal values and NaN included, on every case', () => {
    for (const c of data?.sort ?? []) {
      const values = f32(c.values);
      expect(Array.from(torchSortDescending(values)), `n=${values.length}`).toEqual(c.order);
    }
  });

  it('torch.topk(k) indices (nth_element and partial_sort paths), ties included, on every case', () => {
    for (const c of data?.topk ?? []) {
      const values = f32(c.values);
      const order = Int32Array.from(values, (_, i) => i);
      torchTopk(values, order, values.length, c.k);
      expect(Array.from(order.subarray(0, c.k)), `n=${values.length} k=${c.k}`).toEqual(c.indices);
    }
  });
});
