import { describe, expect, it } from 'vitest';
import { classify, formatFixed6 } from './classification.js';
import { parseInferRequest } from './request.js';
import { decodeInferResponse, encodeError, encodeInferResponse } from './response.js';
import { ProtocolError, type InferResponse } from './types.js';

const dec = new TextDecoder();
const text = (b: Uint8Array) => dec.decode(b);
const req = (
  outputs: { name: string; binary?: boolean; classification?: number }[] = [],
  binaryDataOutput = false,
) => ({
  binaryDataOutput,
  outputs: outputs.map((o) => ({ binary: false, classification: 0, parameters: {}, ...o })),
});
const strings = (d: unknown) => (d as Uint8Array[]).map((b) => dec.decode(b));

// The model of the specification's examples: output0 is FP32 [ 3, 2 ] = [ 1.0, 1.1, 2.0, 2.1, 3.0, 3.1 ].
const output0 = {
  name: 'output0',
  datatype: 'FP32' as const,
  shape: [3, 2],
  data: new Float32Array([1, 1.1, 2, 2.1, 3, 3.1]),
};

describe('the specification examples', () => {
  it('inference_rest.md: the JSON response to the example request', () => {
    const r = encodeInferResponse({ model_name: 'mymodel', id: '42', outputs: [output0] }, req([{ name: 'output0' }]));
    expect(r.headers).toEqual({ 'Content-Type': 'application/json' });
    const body = JSON.parse(text(r.body));
    expect(body).toEqual({
      model_name: 'mymodel',
      id: '42',
      outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', data: [...output0.data] }],
    });
    // FP32 values are written as the doubles they are (as Triton's AppendDouble does): 1.1f is 1.100000023841858.
    expect(body.outputs[0].data[1]).toBe(1.100000023841858);
  });

  it('extension_binary_data.md: the binary response, 24 bytes after the JSON', () => {
    const r = encodeInferResponse(
      { model_name: 'mymodel', outputs: [output0] },
      req([{ name: 'output0', binary: true }]),
    );
    const n = Number(r.headers['Inference-Header-Content-Length']);
    expect(r.headers['Content-Type']).toBe('application/octet-stream');
    expect(r.body.length).toBe(n + 24);
    expect(JSON.parse(text(r.body.subarray(0, n)))).toEqual({
      model_name: 'mymodel',
      outputs: [{ name: 'output0', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 } }],
    });
    expect(new Float32Array(r.body.slice(n).buffer)).toEqual(output0.data);
  });

  it("extension_binary_data.md: the raw request's answer, two outputs as binary (12 bytes each)", () => {
    const o = (name: string) => ({ name, datatype: 'FP32' as const, shape: [3, 1], data: new Float32Array([1, 2, 3]) });
    const r = encodeInferResponse({ model_name: 'm', outputs: [o('output0'), o('output1')] }, req([], true));
    const n = Number(r.headers['Inference-Header-Content-Length']);
    expect(r.body.length).toBe(n + 24);
    expect(JSON.parse(text(r.body.subarray(0, n))).outputs.map((x: { parameters: unknown }) => x.parameters)).toEqual([
      { binary_data_size: 12 },
      { binary_data_size: 12 },
    ]);
  });

  it('extension_classification.md: output0 [ 1.1, 3.3, 0.5, 2.4 ] with classification 2', () => {
    const out = {
      name: 'output0',
      datatype: 'FP32' as const,
      shape: [4],
      data: new Float32Array([1.1, 3.3, 0.5, 2.4]),
    };
    const r = encodeInferResponse(
      { model_name: 'mymodel', id: '42', outputs: [out] },
      req([{ name: 'output0', classification: 2 }]),
    );
    // The document prints "3.3:1", "2.4:3" and datatype STRING; Triton's code (src/classification.cc,
    // src/http_server.cc) answers BYTES and std::to_string's "%f": "3.300000:1".
    expect(JSON.parse(text(r.body)).outputs).toEqual([
      { name: 'output0', datatype: 'BYTES', shape: [2], data: ['3.300000:1', '2.400000:3'] },
    ]);
    const labels = ['index_0_label', 'index_1_label', 'index_2_label', 'index_3_label'];
    const withLabels = encodeInferResponse(
      { model_name: 'mymodel', outputs: [out] },
      req([{ name: 'output0', classification: 2 }]),
      { labels: { output0: labels } },
    );
    expect(JSON.parse(text(withLabels.body)).outputs[0].data).toEqual([
      '3.300000:1:index_1_label',
      '2.400000:3:index_3_label',
    ]);
  });

  it('extension_classification.md: the top-2 of [ 1, 5, 10, 4 ] by index is [ 2, 1 ] (integers print as integers)', () => {
    const t = classify({ name: 'o', datatype: 'INT32', shape: [4], data: new Int32Array([1, 5, 10, 4]) }, 2, {
      batched: false,
    });
    expect(strings(t.data)).toEqual(['10:2', '5:1']);
  });
});

describe('classification', () => {
  it('per batch row, shape [ batch, k ], k capped at the class count; labels only where the file has a line', () => {
    const t = classify(
      { name: 'logits', datatype: 'FP32', shape: [2, 3], data: new Float32Array([0.1, 0.7, 0.2, 5, -1, 5]) },
      5,
      { batched: true, labels: ['cat', 'dog'] },
    );
    expect(t.shape).toEqual([2, 3]);
    expect(strings(t.data)).toEqual([
      '0.700000:1:dog',
      '0.200000:2',
      '0.100000:0:cat',
      '5.000000:0:cat', // ties go to the lower index
      '5.000000:2',
      '-1.000000:1:dog',
    ]);
  });

  it('refuses the datatypes Triton refuses', () => {
    for (const datatype of ['FP16', 'BF16', 'BOOL', 'BYTES'] as const) {
      expect(() =>
        classify({ name: 'o', datatype, shape: [1], data: new Uint16Array(1) }, 1, { batched: false }),
      ).toThrow(`outputs 'o': class result not available for output due to unsupported type '${datatype}'`);
    }
  });

  it('formats like printf("%f"): exact rounding, ties to even, signed zero, inf and nan', () => {
    const cases: [number, string][] = [
      [0, '0.000000'],
      [-0, '-0.000000'],
      [Math.fround(3.3), '3.300000'],
      [0.0078125, '0.007812'], // 2^-7: an exact tie at the 6th decimal, to even
      [0.0234375, '0.023438'], // 3 * 2^-7: a tie, to even (up)
      [-1e-7, '-0.000000'],
      [123456789.12345679, '123456789.123457'],
      [1e21, '1000000000000000000000.000000'],
      [2 ** -1074, '0.000000'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NEGATIVE_INFINITY, '-inf'],
      [Number.NaN, 'nan'],
    ];
    for (const [x, s] of cases) expect(formatFixed6(x)).toBe(s);
  });
});

describe('the encoder', () => {
  const outputs = [
    output0,
    { name: 'big', datatype: 'INT64' as const, shape: [2], data: new BigInt64Array([2n ** 62n, -1n]) },
    { name: 'flags', datatype: 'BOOL' as const, shape: [2], data: new Uint8Array([1, 0]) },
    { name: 'words', datatype: 'BYTES' as const, shape: [2], data: [new TextEncoder().encode('é'), new Uint8Array()] },
  ];
  const response: InferResponse = { model_name: 'm', model_version: '1', outputs };

  it('returns every output when the request names none, and only those named, in its order, otherwise', () => {
    const all = JSON.parse(text(encodeInferResponse(response, req()).body));
    expect(all.outputs.map((o: { name: string }) => o.name)).toEqual(['output0', 'big', 'flags', 'words']);
    const some = JSON.parse(text(encodeInferResponse(response, req([{ name: 'words' }, { name: 'big' }])).body));
    expect(some.outputs.map((o: { name: string }) => o.name)).toEqual(['words', 'big']);
    expect(some.model_version).toBe('1');
  });

  it('writes 64-bit integers exactly in JSON, BOOL as true/false, BYTES as strings', () => {
    const body = text(encodeInferResponse(response, req([{ name: 'big' }, { name: 'flags' }, { name: 'words' }])).body);
    expect(body).toContain('"data":[4611686018427387904,-1]');
    expect(body).toContain('"data":[true,false]');
    expect(JSON.parse(body).outputs[2].data).toEqual(['é', '']);
  });

  it('mixes JSON and binary outputs; the binary ones follow the JSON in order', () => {
    const r = encodeInferResponse(
      response,
      req([{ name: 'words', binary: true }, { name: 'flags' }, { name: 'big', binary: true }]),
    );
    const decoded = decodeInferResponse(r.body, r.headers['Inference-Header-Content-Length']);
    expect(decoded.outputs.map((o) => o.name)).toEqual(['words', 'flags', 'big']);
    expect(strings(decoded.outputs[0]!.data)).toEqual(['é', '']);
    expect(decoded.outputs[1]!.data).toEqual(new Uint8Array([1, 0]));
    expect(decoded.outputs[2]!.data).toEqual(new BigInt64Array([2n ** 62n, -1n]));
  });

  it('refuses an output the model does not have, FP16 as JSON, NaN as JSON and non-UTF-8 BYTES as JSON', () => {
    expect(() => encodeInferResponse(response, req([{ name: 'nope' }]))).toThrow(
      "outputs[0].name: model 'm' has no output 'nope'; it has output0, big, flags, words",
    );
    const one = (o: InferResponse['outputs'][number]) => () =>
      encodeInferResponse({ model_name: 'm', outputs: [o] }, req());
    expect(one({ name: 'h', datatype: 'FP16', shape: [1], data: new Uint16Array(1) })).toThrow(
      "output 'h' is FP16, which has no JSON form; request it with 'binary_data': true",
    );
    expect(one({ name: 'n', datatype: 'FP32', shape: [1], data: new Float32Array([Number.NaN]) })).toThrow(/holds NaN/);
    expect(one({ name: 'b', datatype: 'BYTES', shape: [1], data: [new Uint8Array([0xff])] })).toThrow(/not UTF-8/);
    // As binary, all three travel.
    const fine = encodeInferResponse(
      { model_name: 'm', outputs: [{ name: 'b', datatype: 'BYTES', shape: [1], data: [new Uint8Array([0xff])] }] },
      req([], true),
    );
    expect(fine.body.at(-1)).toBe(0xff);
  });

  it('errors answer { "error": "..." } with their status', () => {
    const e = encodeError(new ProtocolError('inputs[0].name: bad', 400));
    expect([e.status, text(e.body)]).toEqual([400, '{"error":"inputs[0].name: bad"}']);
    const internal = encodeError(new Error('boom'));
    expect([internal.status, JSON.parse(text(internal.body))]).toEqual([500, { error: 'internal error: boom' }]);
  });

  it('round-trips a parsed request through the encoder (the request id comes back)', () => {
    const parsed = parseInferRequest(
      new TextEncoder().encode(
        JSON.stringify({ id: 'abc', inputs: [{ name: 'x', shape: [2], datatype: 'FP64', data: [0.1, 0.2] }] }),
      ),
    );
    const r = encodeInferResponse({ model_name: 'echo', id: parsed.id!, outputs: parsed.inputs }, parsed);
    expect(JSON.parse(text(r.body))).toEqual({
      model_name: 'echo',
      id: 'abc',
      outputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [0.1, 0.2] }],
    });
  });
});
