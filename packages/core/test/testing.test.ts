// The test helpers are what other tests' verdicts rest on: they must be able to say "different" and "invalid".
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/ir/builder.js';
import { toOnnx } from '../src/onnx/write.js';
import { onnxCheck, onnxCheckStream, pythonOnnxMissing } from './testing.js';

const missing = pythonOnnxMissing();
describe.skipIf(missing !== null)(`tools/onnx_check.py ${missing ? `(skipped: ${missing})` : ''}`, () => {
  const b = new GraphBuilder('tiny');
  b.output(b.relu(b.input('x', [1, 2]), 'y'));
  const good = toOnnx(b.build());
  // A node whose input nothing produces: the checker's full check must reject it.
  const bad = Buffer.from(
    Buffer.from(good)
      .toString('latin1')
      .replace(/\x01x(?=.*Relu)/s, '\x01z'),
    'latin1',
  );

  it('passes a valid model and names the invalid one, from bytes and from a stream', async () => {
    const results = onnxCheck({ good, bad });
    expect(results.map((r) => [r.file, r.ok])).toEqual([
      ['good', true],
      ['bad', false],
    ]);
    expect(results[1]!.error).toMatch(/\S/);
    const streamed = await onnxCheckStream([
      ['a', good],
      ['b', bad],
      ['c', good],
    ]);
    expect(streamed.map((r) => [r.file, r.ok])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
  });
});
