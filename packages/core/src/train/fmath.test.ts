import { describe, expect, it } from 'vitest';
import { exp, log } from './fmath.js';
import { Rng } from './rng.js';

/** Distance in units in the last place. */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const v = new DataView(new ArrayBuffer(16));
  v.setFloat64(0, a);
  v.setFloat64(8, b);
  return Number(v.getBigInt64(0) - v.getBigInt64(8));
}

describe('fdlibm exp and log', () => {
  it('agree with Math.exp / Math.log within 1 ulp over their range, and special values', () => {
    const rng = new Rng(11);
    let worstExp = 0;
    let worstLog = 0;
    for (let i = 0; i < 20000; i++) {
      const x = (rng.nextFloat() - 0.5) * 2 * [1, 10, 700, 1e-6][i % 4]!;
      worstExp = Math.max(worstExp, Math.abs(ulps(exp(x), Math.exp(x))));
      const y = Math.exp((rng.nextFloat() - 0.5) * 1400) * (1 + rng.nextFloat());
      worstLog = Math.max(worstLog, Math.abs(ulps(log(y), Math.log(y))));
    }
    console.log(`exp: worst ${worstExp} ulp, log: worst ${worstLog} ulp from Node's Math`);
    expect(worstExp).toBeLessThanOrEqual(1);
    expect(worstLog).toBeLessThanOrEqual(1);
    expect(exp(0)).toBe(1);
    expect(exp(800)).toBe(Number.POSITIVE_INFINITY);
    expect(exp(-800)).toBe(0);
    expect(exp(-740)).toBe(Math.exp(-740));
    expect(exp(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(Number.isNaN(exp(Number.NaN))).toBe(true);
    expect(log(1)).toBe(0);
    expect(log(Math.E)).toBeCloseTo(1, 15);
    expect(log(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(log(-1))).toBe(true);
    expect(log(5e-324)).toBeCloseTo(Math.log(5e-324), 12);
    expect(log(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });
});
