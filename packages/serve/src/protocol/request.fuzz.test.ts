// Hostile bytes for the request parser (as issue 23 does for the image readers): edits of valid requests, binary
// and JSON, and random bytes. Every case is parsed or refused with a ProtocolError, within the time bound;
// nothing else may escape. `pnpm --filter @mobilenet/serve fuzz` runs 10,000 cases.
import { describe, expect, it } from 'vitest';
import { RUNS, checkAsync, mutated } from '@mobilenet/test-support/fuzz';
import { serializeBytes } from './datatypes.js';
import { parseInferRequest } from './request.js';
import { ProtocolError } from './types.js';

const enc = new TextEncoder();
function seed(header: unknown, ...blobs: Uint8Array[]) {
  const h = enc.encode(JSON.stringify(header));
  const body = new Uint8Array(h.length + blobs.reduce((a, b) => a + b.length, 0));
  body.set(h);
  let at = h.length;
  for (const b of blobs) {
    body.set(b, at);
    at += b.length;
  }
  return { body, headerLength: h.length };
}
const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const words = serializeBytes([enc.encode('abc'), enc.encode('')]);
const seeds = [
  seed(
    {
      id: '1',
      inputs: [
        { name: 'a', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } },
        { name: 'b', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: words.length } },
        { name: 'c', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
        { name: 'd', shape: [1], datatype: 'INT64', data: [7] },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: true, classification: 3 } }],
    },
    bytes(new Float32Array([1, 2, 3, 4])),
    words,
    new Uint8Array([1, 0, 1]),
  ),
  seed({
    inputs: [
      {
        name: 'x',
        shape: [2, 2],
        datatype: 'UINT8',
        data: [
          [1, 2],
          [3, 4],
        ],
      },
      { name: 's', shape: [2], datatype: 'BYTES', data: ['é', ''] },
    ],
    parameters: { binary_data_output: true, timeout: 10 },
  }),
];

describe('fuzz: parseInferRequest', () => {
  it(`parses or refuses by name (${RUNS} cases)`, async () => {
    const lengths = [undefined, ...seeds.map((s) => s.headerLength)];
    await checkAsync('infer requests', mutated(seeds.map((s) => s.body)), async (body) => {
      let accepted = false;
      for (const headerLength of [...lengths, Math.max(0, body.length - 11)]) {
        try {
          parseInferRequest(body, { headerLength, limits: { maxElements: 1 << 20, maxTensorBytes: 1 << 22 } });
          accepted = true;
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          expect(e.message.length).toBeGreaterThan(0);
        }
      }
      return accepted ? 'accepted' : 'refused';
    });
  });
});
