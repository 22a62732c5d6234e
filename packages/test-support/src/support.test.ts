// The test helpers are what other tests' verdicts rest on: they must be able to say "different" and "invalid".
import { describe, expect, it } from 'vitest';
import { fixedInput, maxAbs, maxAbsDiff, skipUnless } from './index.js';

describe('maxAbsDiff', () => {
  it('is the largest absolute difference', () => {
    expect(maxAbsDiff([1, 2, 3], Float32Array.of(1, 2.5, 2))).toBe(1);
    expect(maxAbs([-3, 2])).toBe(3);
  });

  it('refuses what it cannot compare: different lengths, nothing at all, NaN', () => {
    expect(() => maxAbsDiff([1, 2], [1])).toThrow('maxAbsDiff: expected outputs of the same length, received 2 and 1');
    expect(() => maxAbsDiff([], new Float32Array(0))).toThrow(
      'maxAbsDiff: expected non-empty outputs, received two empty ones',
    );
    expect(() => maxAbsDiff([0, Number.NaN], [0, 1])).toThrow(
      'maxAbsDiff: expected numbers, received NaN and 1 at index 1',
    );
  });
});

describe('skipUnless', () => {
  it('is null when the capability works, the reason outside CI, a failure in CI', () => {
    expect(skipUnless('X', null, true)).toBeNull();
    expect(skipUnless('X', 'no driver', false)).toBe('X unavailable: no driver');
    expect(() => skipUnless('X', 'no driver', true)).toThrow('CI requires X: no driver');
  });
});

describe('fixedInput', () => {
  it('is [batch, 3, R, R] of sin(0.01 i) in float32, the same for every caller', () => {
    const x = fixedInput(2, 4);
    expect(x.length).toBe(2 * 3 * 4 * 4);
    expect([x[0], x[1], x[95]]).toEqual([0, Math.fround(Math.sin(0.01)), Math.fround(Math.sin(0.95))]);
  });
});
