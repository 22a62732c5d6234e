// The test helpers are what other tests' verdicts rest on: they must be able to say "different" and "invalid".
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './ir/builder.js';
import { toOnnx } from './onnx/write.js';
import { maxAbs, maxAbsDiff, onnxCheck, onnxCheckStream, pythonOnnxMissing, skipUnless } from './testing.js';

describe('maxAbsDiff', () => {
  it('is the largest absolute difference', () => {
    expect(maxAbsDiff([1, 2, 3], Float32Array.of(1, 2.5, 2))).toBe(1);
    expect(maxAbs([-3, 2])).toBe(3);
  });

  it('refuses what it cannot compare: different lengths, nothing at all, NaN', () => {
    expect(() => maxAbsDiff([1, 2], [1])).toThrow('maxAbsDiff: expected outputs of the same length, received 2 and 1');
    expect(() => maxAbsDiff([], new Float32Array(0))).toThrow('maxAbsDiff: expected non-empty outputs, received two empty ones');
    expect(() => maxAbsDiff([0, Number.NaN], [0, 1])).toThrow('maxAbsDiff: expected numbers, received NaN and 1 at index 1');
  });
});

describe('skipUnless', () => {
  it('is null when the capability works, the reason outside CI, a failure in CI', () => {
    expect(skipUnless('X', null, true)).toBeNull();
    expect(skipUnless('X', 'no driver', false)).toBe('X unavailable: no driver');
    expect(() => skipUnless('X', 'no driver', true)).toThrow('CI requires X: no driver');
  });
});

const missing = pythonOnnxMissing();
describe.skipIf(missing !== null)(`tools/onnx_check.py ${missing ? `(skipped: ${missing})` : ''}`, () => {
  const b = new GraphBuilder('tiny');
  b.output(b.relu(b.input('x', [1, 2]), 'y'));
  const good = toOnnx(b.build());
  // A node whose input nothing produces: the checker's full check must reject it.
  const bad = Buffer.from(Buffer.from(good).toString('latin1').replace(/\x01x(?=.*Relu)/s, '\x01z'), 'latin1');

  it('passes a valid model and names the invalid one, from bytes and from a stream', async () => {
    const results = onnxCheck({ good, bad });
    expect(results.map((r) => [r.file, r.ok])).toEqual([['good', true], ['bad', false]]);
    expect(results[1]!.error).toMatch(/\S/);
    const streamed = await onnxCheckStream([['a', good], ['b', bad], ['c', good]]);
    expect(streamed.map((r) => [r.file, r.ok])).toEqual([['a', true], ['b', false], ['c', true]]);
  });
});
