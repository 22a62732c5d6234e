import { describe, expect, it } from 'vitest';
import { BatchSizer } from './batch-sizer.js';

describe('BatchSizer', () => {
  it('doubles while the time per image improves by 5% or more, then keeps the best size', () => {
    const perImage = (b: number) => 10 / Math.min(b, 4) + 1; // the model stops gaining past 4
    const s = new BatchSizer(null, undefined, 64);
    const sizes: number[] = [];
    for (let i = 0; i < 20; i++) {
      sizes.push(s.next);
      s.record(s.next, perImage(s.next) * s.next);
    }
    expect(s.isSettled).toBe(true);
    expect(s.next).toBe(4);
    expect(new Set(sizes)).toEqual(new Set([1, 2, 4, 8]));
  });

  it('takes a fixed batch or a requested one as is, and stops at the maximum', () => {
    expect(new BatchSizer(1, undefined, 16).next).toBe(1);
    expect(new BatchSizer(null, 8, 16).next).toBe(8);
    const s = new BatchSizer(null, undefined, 2);
    for (let i = 0; i < 10; i++) s.record(s.next, 1); // always faster per image
    expect([s.next, s.isSettled]).toEqual([2, true]);
  });

  it('starts the doubling where asked (within the maximum)', () => {
    const s = new BatchSizer(null, undefined, 16, 0.05, 8);
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      sizes.push(s.next);
      s.record(s.next, s.next); // no gain per image: keeps 8
    }
    expect(new Set(sizes)).toEqual(new Set([8, 16]));
    expect([s.next, s.isSettled]).toEqual([8, true]);
    expect(new BatchSizer(null, undefined, 4, 0.05, 8).next).toBe(4);
  });
});
