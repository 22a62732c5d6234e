import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type F32Record, f32, readFixture } from '../../test/fixtures/detection/read.js';
import { torchSortDescending, torchStableSortRange, torchTopk } from './torch-order.js';

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

describe('torch orders: invariants (fast-check)', () => {
  const keys = fc.array(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(Number.NaN)), { maxLength: 300 });

  it('the unstable sort is a permutation, NaN first, then non-increasing', () => {
    fc.assert(
      fc.property(keys, (values) => {
        const k = Float32Array.from(values);
        const order = torchSortDescending(k);
        expect([...order].sort((a, b) => a - b)).toEqual(values.map((_, i) => i));
        const sorted = Array.from(order, (i) => k[i]!);
        const nan = sorted.findIndex((v) => !Number.isNaN(v));
        const rest = nan < 0 ? [] : sorted.slice(nan);
        expect(rest.some((v) => Number.isNaN(v))).toBe(false);
        for (let i = 1; i < rest.length; i++) expect(rest[i]!).toBeLessThanOrEqual(rest[i - 1]!);
      }),
    );
  });

  it('the stable sort keeps equal keys in their order (as a stable Array sort does)', () => {
    fc.assert(
      fc.property(keys, fc.integer({ min: 0, max: 20 }), (values, offset) => {
        const k = Float32Array.from(values);
        const n = values.length;
        const order = Int32Array.from({ length: n + offset }, (_, i) => (i < offset ? -1 : n - 1 - (i - offset)));
        torchStableSortRange(k, order, offset, n + offset);
        const rank = (v: number) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v);
        const expected = Array.from({ length: n }, (_, i) => n - 1 - i).sort((a, b) => rank(k[b]!) - rank(k[a]!) || 0);
        expect(Array.from(order.subarray(offset))).toEqual(expected);
        expect(Array.from(order.subarray(0, offset)).every((v) => v === -1)).toBe(true);
      }),
    );
  });
});
