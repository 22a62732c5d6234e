import { describe, expect, it } from 'vitest';
import { serializeBytes } from './datatypes.js';
import { parseInferRequest } from './request.js';
import { ProtocolError } from './types.js';

const enc = new TextEncoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));
/** A JSON header then binary blobs, with the header length to send. */
function binaryBody(header: unknown, ...blobs: Uint8Array[]) {
  const h = json(header);
  const body = new Uint8Array(h.length + blobs.reduce((a, b) => a + b.length, 0));
  body.set(h);
  let at = h.length;
  for (const b of blobs) {
    body.set(b, at);
    at += b.length;
  }
  return { body, headerLength: String(h.length) };
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** The error a request gets, as its message and status. */
function refusal(body: Uint8Array, options: Parameters<typeof parseInferRequest>[1] = {}) {
  try {
    parseInferRequest(body, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return { message: (e as ProtocolError).message, status: (e as ProtocolError).status };
  }
  throw new Error('expected a refusal');
}
const input = (over: Record<string, unknown> = {}) => ({
  name: 'x',
  shape: [2],
  datatype: 'FP32',
  data: [1, 2],
  ...over,
});

describe('the specification examples (inference_rest.md, "Inference Request Examples")', () => {
  // The example as printed: input1 has shape [ 3 ] but data [ true ] (one element). The specification says shape
  // and data "must represent the full shape and contents"; a strict server refuses it, as Triton does ("Failed
  // to parse 'data' field: shape does not match true shape").
  const example = {
    id: '42',
    inputs: [
      { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
      { name: 'input1', shape: [3], datatype: 'BOOL', data: [true] },
    ],
    outputs: [{ name: 'output0' }],
  };

  it('refuses the printed example, whose input1 holds 1 element for shape [ 3 ], naming the field', () => {
    expect(refusal(json(example)).message).toBe('inputs[1].data: holds 1 element, but shape [3] needs 3');
  });

  it('parses the example with input1 made consistent', () => {
    const fixed = structuredClone(example);
    fixed.inputs[1]!.data = [true, false, true];
    const r = parseInferRequest(json(fixed));
    expect(r.id).toBe('42');
    expect(r.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual([
      ['input0', 'UINT32', [2, 2]],
      ['input1', 'BOOL', [3]],
    ]);
    expect(r.inputs[0]!.data).toEqual(new Uint32Array([1, 2, 3, 4]));
    expect(r.inputs[1]!.data).toEqual(new Uint8Array([1, 0, 1]));
    expect(r.outputs).toEqual([{ name: 'output0', binary: false, classification: 0, parameters: {} }]);
  });

  it('takes tensor data nested or flattened ("Tensor Data": [ [ 1, 2 ], [ 4, 5 ] ] or [ 1, 2, 4, 5 ])', () => {
    for (const data of [
      [
        [1, 2],
        [4, 5],
      ],
      [1, 2, 4, 5],
    ]) {
      const r = parseInferRequest(json({ inputs: [{ name: 'm', shape: [2, 2], datatype: 'INT32', data }] }));
      expect(r.inputs[0]!.data).toEqual(new Int32Array([1, 2, 4, 5]));
    }
  });

  it("parses the binary extension's example (extension_binary_data.md): 16 + 3 bytes after the JSON", () => {
    const { body, headerLength } = binaryBody(
      {
        model_name: 'mymodel',
        inputs: [
          { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
          { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
        ],
        outputs: [{ name: 'output0', parameters: { binary_data: true } }],
      },
      bytesOf(new Uint32Array([1, 2, 3, 4])),
      new Uint8Array([1, 0, 1]),
    );
    const r = parseInferRequest(body, { headerLength });
    expect(r.modelName).toBe('mymodel');
    expect(r.inputs[0]!.data).toEqual(new Uint32Array([1, 2, 3, 4]));
    expect(r.inputs[1]!.data).toEqual(new Uint8Array([1, 0, 1]));
    expect(r.inputs[0]!.parameters).toEqual({ binary_data_size: 16 });
    expect(r.outputs[0]!.binary).toBe(true);
  });

  it("parses the classification extension's request (extension_classification.md)", () => {
    const r = parseInferRequest(
      json({
        id: '42',
        inputs: [{ name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] }],
        outputs: [{ name: 'output0', parameters: { classification: 2 } }],
      }),
    );
    expect(r.outputs[0]).toMatchObject({ name: 'output0', classification: 2, binary: false });
  });

  it("parses Triton's raw binary request (Inference-Header-Content-Length: 0) given the model's one input", () => {
    const body = bytesOf(new Float32Array([1, 2, 3, 4]));
    const r = parseInferRequest(body, {
      headerLength: '0',
      rawInput: { name: 'in', datatype: 'FP32', shape: [-1, 4], batched: true },
    });
    expect(r.inputs[0]).toMatchObject({ name: 'in', shape: [1, 4] });
    expect(r.inputs[0]!.data).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(r.binaryDataOutput).toBe(true);
    expect(refusal(body, { headerLength: 0 }).message).toMatch(/needs a model with exactly one input/);
    expect(refusal(body, { headerLength: 0, rawInput: { name: 'in', datatype: 'FP32', shape: [3] } }).message).toMatch(
      /4 elements, but input 'in' of shape \[3\] needs 3/,
    );
  });
});

describe('every datatype, JSON and binary', () => {
  const cases: [string, unknown[], ArrayBufferView][] = [
    ['BOOL', [true, false], new Uint8Array([1, 0])],
    ['UINT8', [0, 255], new Uint8Array([0, 255])],
    ['UINT16', [0, 65535], new Uint16Array([0, 65535])],
    ['UINT32', [0, 4294967295], new Uint32Array([0, 4294967295])],
    ['UINT64', [0, 2 ** 53 - 1], new BigUint64Array([0n, 2n ** 53n - 1n])],
    ['INT8', [-128, 127], new Int8Array([-128, 127])],
    ['INT16', [-32768, 32767], new Int16Array([-32768, 32767])],
    ['INT32', [-2147483648, 2147483647], new Int32Array([-2147483648, 2147483647])],
    ['INT64', [-(2 ** 53 - 1), 2 ** 53 - 1], new BigInt64Array([-(2n ** 53n - 1n), 2n ** 53n - 1n])],
    ['FP32', [0.5, -3.25], new Float32Array([0.5, -3.25])],
    ['FP64', [0.1, -1e300], new Float64Array([0.1, -1e300])],
  ];
  for (const [datatype, data, typed] of cases) {
    it(`${datatype} as JSON and as binary decode to the same elements`, () => {
      const fromJson = parseInferRequest(json({ inputs: [{ name: 'a', shape: [2], datatype, data }] }));
      const { body, headerLength } = binaryBody(
        { inputs: [{ name: 'a', shape: [2], datatype, parameters: { binary_data_size: typed.byteLength } }] },
        bytesOf(typed),
      );
      const fromBinary = parseInferRequest(body, { headerLength });
      expect(fromJson.inputs[0]!.data).toEqual(typed);
      expect(fromBinary.inputs[0]!.data).toEqual(typed);
    });
  }

  it('BYTES: JSON strings as UTF-8, binary as 4-byte little-endian lengths then bytes', () => {
    const strings = ['', 'héllo', '\u0000x'];
    const fromJson = parseInferRequest(json({ inputs: [{ name: 's', shape: [3], datatype: 'BYTES', data: strings }] }));
    const wire = serializeBytes(strings.map((s) => enc.encode(s)));
    expect([...wire.subarray(0, 8)]).toEqual([0, 0, 0, 0, 6, 0, 0, 0]);
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 's', shape: [3], datatype: 'BYTES', parameters: { binary_data_size: wire.length } }] },
      wire,
    );
    const fromBinary = parseInferRequest(body, { headerLength });
    const text = (d: unknown) => (d as Uint8Array[]).map((b) => new TextDecoder().decode(b));
    expect(text(fromJson.inputs[0]!.data)).toEqual(strings);
    expect(text(fromBinary.inputs[0]!.data)).toEqual(strings);
  });

  it('FP16 and BF16 travel as binary (their raw 16-bit patterns) and are refused as JSON', () => {
    const bits = new Uint16Array([0x3c00, 0xc000]); // FP16 1, -2
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 'h', shape: [2], datatype: 'FP16', parameters: { binary_data_size: 4 } }] },
      bytesOf(bits),
    );
    expect(parseInferRequest(body, { headerLength }).inputs[0]!.data).toEqual(bits);
    expect(refusal(json({ inputs: [input({ datatype: 'FP16' })] })).message).toMatch(
      /^inputs\[0\]\.data: FP16 has no JSON form .*send it as binary data with 'binary_data_size'$/,
    );
    expect(refusal(json({ inputs: [input({ datatype: 'BF16' })] })).message).toMatch(/BF16 has no JSON form/);
  });
});

describe('refusals name the field', () => {
  const cases: [string, unknown, string | RegExp][] = [
    [
      'an unknown datatype',
      { inputs: [input({ datatype: 'FLOAT' })] },
      "inputs[0].datatype: expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BF16, BYTES, received 'FLOAT'",
    ],
    ['no inputs field', {}, 'inputs: expected an array of inputs, received undefined'],
    ['a body that is an array', [1], 'expected the inference request object, received an array'],
    [
      'an unknown top-level field',
      { inputs: [], foo: 1 },
      "unknown field 'foo'; expected only id, parameters, inputs, outputs, model_name, model_version",
    ],
    ['an unknown input field', { inputs: [input({ dims: [2] })] }, /^inputs\[0\]: unknown field 'dims'/],
    ['an id that is a number', { id: 42, inputs: [] }, 'id: expected a string, received 42'],
    [
      'a missing name',
      { inputs: [input({ name: undefined })] },
      'inputs[0].name: expected a non-empty string, received undefined',
    ],
    ['a duplicate input', { inputs: [input(), input()] }, "inputs[1].name: 'x' is given twice"],
    [
      'a negative dimension',
      { inputs: [input({ shape: [-1] })] },
      'inputs[0].shape[0]: expected a non-negative integer, received -1',
    ],
    [
      'a fractional dimension',
      { inputs: [input({ shape: [1.5] })] },
      'inputs[0].shape[0]: expected a non-negative integer, received 1.5',
    ],
    [
      'a shape that is not an array',
      { inputs: [input({ shape: 2 })] },
      'inputs[0].shape: expected an array of dimensions, received 2',
    ],
    ['too few elements', { inputs: [input({ data: [1] })] }, 'inputs[0].data: holds 1 element, but shape [2] needs 2'],
    [
      'too many elements',
      { inputs: [input({ data: [1, 2, 3] })] },
      "inputs[0].data: holds more elements than the shape's 2",
    ],
    [
      'a string in FP32 data',
      { inputs: [input({ data: [1, '2'] })] },
      "inputs[0].data[1]: expected a number for FP32, received '2'",
    ],
    [
      'a nested bad element',
      { inputs: [input({ shape: [2, 1], data: [[1], [true]] })] },
      'inputs[0].data[1][0]: expected a number for FP32, received true',
    ],
    [
      'an out-of-range UINT8',
      { inputs: [input({ datatype: 'UINT8', data: [1, 256] })] },
      'inputs[0].data[1]: expected an integer in [0, 255] for UINT8, received 256',
    ],
    [
      'a fraction in INT32',
      { inputs: [input({ datatype: 'INT32', data: [1, 0.5] })] },
      /^inputs\[0\]\.data\[1\]: expected an integer in \[-2147483648, 2147483647\] for INT32, received 0.5$/,
    ],
    [
      'an INT64 past 2^53',
      { inputs: [input({ datatype: 'INT64', data: [1, 2 ** 60] })] },
      /JSON numbers are exact only to 2\^53; send wider values as binary data/,
    ],
    ['FP32 overflow', { inputs: [input({ data: [1, 1e39] })] }, "inputs[0].data[1]: 1e+39 is outside FP32's range"],
    [
      'a number as BOOL',
      { inputs: [input({ datatype: 'BOOL', data: [1, 0] })] },
      'inputs[0].data[0]: expected true or false for BOOL, received 1',
    ],
    [
      'data that is not an array',
      { inputs: [input({ data: 'abc' })] },
      "inputs[0].data: expected an array, received 'abc'",
    ],
    [
      'neither data nor binary_data_size',
      { inputs: [input({ data: undefined })] },
      "inputs[0]: has neither 'data' nor 'parameters.binary_data_size'",
    ],
    [
      'both data and binary_data_size',
      { inputs: [input({ parameters: { binary_data_size: 0 } })] },
      "inputs[0]: gives both 'data' and 'binary_data_size'; an input's data is one or the other",
    ],
    [
      'an unknown request parameter',
      { parameters: { foo: 1 }, inputs: [] },
      'parameters.foo: unknown parameter; this server knows binary_data_output, timeout, priority',
    ],
    [
      'an unknown input parameter',
      { inputs: [input({ parameters: { foo: 'x' } })] },
      'inputs[0].parameters.foo: unknown parameter; this server knows binary_data_size',
    ],
    [
      'an unknown output parameter',
      { inputs: [], outputs: [{ name: 'y', parameters: { top_k: 5 } }] },
      'outputs[0].parameters.top_k: unknown parameter; this server knows binary_data, classification',
    ],
    [
      'shared memory',
      { inputs: [input({ data: undefined, parameters: { shared_memory_region: 'r' } })] },
      'inputs[0].parameters.shared_memory_region: the shared-memory extension is not supported by this server',
    ],
    [
      'sequence batching',
      { parameters: { sequence_id: 3 }, inputs: [] },
      /^parameters\.sequence_id: sequence batching is not supported/,
    ],
    [
      'a parameter value that is an object',
      { parameters: { timeout: {} }, inputs: [] },
      'parameters.timeout: expected a string, number or boolean, received an object',
    ],
    [
      'binary_data_output that is a string',
      { parameters: { binary_data_output: 'yes' }, inputs: [] },
      "parameters.binary_data_output: expected a boolean, received 'yes'",
    ],
    [
      'a negative classification',
      { inputs: [], outputs: [{ name: 'y', parameters: { classification: -1 } }] },
      'outputs[0].parameters.classification: expected an integer from 0 to 4294967295, received -1',
    ],
    [
      'a duplicate output',
      { inputs: [], outputs: [{ name: 'y' }, { name: 'y' }] },
      "outputs[1].name: 'y' is requested twice",
    ],
    [
      'binary_data_size with no header length',
      { inputs: [input({ data: undefined, parameters: { binary_data_size: 8 } })] },
      'inputs[0].parameters.binary_data_size: binary data needs the Inference-Header-Content-Length header',
    ],
  ];
  for (const [what, body, message] of cases) {
    it(what, () => {
      const r = refusal(json(body));
      expect(r.status).toBe(400);
      if (typeof message === 'string') expect(r.message).toBe(message);
      else expect(r.message).toMatch(message);
    });
  }

  it('malformed JSON and non-UTF-8 headers', () => {
    expect(refusal(enc.encode('{"inputs": [')).message).toMatch(/^the request is not valid JSON: /);
    expect(refusal(new Uint8Array([0x7b, 0xff, 0x7d])).message).toBe('the request header is not valid UTF-8');
  });

  it('accepts parameters a server allows, and passes them on', () => {
    const r = parseInferRequest(json({ parameters: { foo: 'bar' }, inputs: [input()] }), {
      allowParameters: { request: ['foo'] },
    });
    expect(r.parameters).toEqual({ foo: 'bar' });
  });

  it("reads Triton's request parameters: timeout, priority, binary_data_output (outputs inherit it)", () => {
    const r = parseInferRequest(
      json({
        parameters: { timeout: 5000, priority: 2, binary_data_output: true },
        inputs: [input()],
        outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: false } }],
      }),
    );
    expect([r.timeoutMicroseconds, r.priority, r.binaryDataOutput]).toEqual([5000, 2, true]);
    expect(r.outputs.map((o) => o.binary)).toEqual([true, false]);
  });
});

describe('binary data refusals', () => {
  const u32 = bytesOf(new Uint32Array([1, 2, 3, 4]));
  const header = (size: number, datatype = 'UINT32', shape = [2, 2]) => ({
    inputs: [{ name: 'a', shape, datatype, parameters: { binary_data_size: size } }],
  });

  it('a binary_data_size that disagrees with the shape', () => {
    const { body, headerLength } = binaryBody(header(12), u32.subarray(0, 12));
    expect(refusal(body, { headerLength }).message).toBe(
      'inputs[0].parameters.binary_data_size: shape [2, 2] of UINT32 needs 16 bytes, received 12',
    );
  });

  it('a binary_data_size past the end of the body', () => {
    const { body, headerLength } = binaryBody(header(16), u32.subarray(0, 10));
    expect(refusal(body, { headerLength }).message).toBe(
      "inputs[0].parameters.binary_data_size: 16 bytes, but only 10 of the body's 10 bytes of binary data are left",
    );
  });

  it('a binary_data_size that is huge, or not an integer', () => {
    for (const size of [2 ** 64, 1e308, -1, 1.5]) {
      const { body, headerLength } = binaryBody(header(size), u32);
      expect(refusal(body, { headerLength }).message).toMatch(
        /^inputs\[0\]\.parameters\.binary_data_size: expected an integer from 0 to/,
      );
    }
  });

  it('bytes left over after the last binary input', () => {
    const { body, headerLength } = binaryBody(header(16), u32, new Uint8Array(3));
    expect(refusal(body, { headerLength }).message).toBe(
      "3 bytes of binary data follow the last binary input (the inputs' binary_data_size add up to 16 of 19)",
    );
  });

  it('an Inference-Header-Content-Length beyond the body, negative, or not a number', () => {
    const body = json(header(16));
    expect(refusal(body, { headerLength: String(body.length + 1) }).message).toBe(
      `Inference-Header-Content-Length: ${body.length + 1} is more than the ${body.length} bytes of the request body`,
    );
    expect(refusal(body, { headerLength: '99999999999999999999999' }).message).toMatch(/is more than the/);
    expect(refusal(body, { headerLength: '-5' }).message).toBe(
      "Inference-Header-Content-Length: expected a non-negative integer, received '-5'",
    );
    expect(refusal(body, { headerLength: '1e3' }).message).toMatch(/expected a non-negative integer/);
  });

  it('a header length that cuts the JSON short', () => {
    const { body } = binaryBody(header(16), u32);
    expect(refusal(body, { headerLength: '10' }).message).toMatch(/^the request is not valid JSON/);
  });

  it('BOOL bytes other than 0 and 1', () => {
    const { body, headerLength } = binaryBody(header(3, 'BOOL', [3]), new Uint8Array([1, 2, 0]));
    expect(refusal(body, { headerLength }).message).toBe(
      'inputs[0] binary data: BOOL element 1 is byte 2; true is 1 and false is 0',
    );
  });

  it('BYTES elements whose lengths run past their data, are cut off, or miscount the shape', () => {
    const good = serializeBytes([enc.encode('ab'), enc.encode('c')]); // 4+2+4+1 = 11 bytes
    const lie = good.slice();
    new DataView(lie.buffer).setUint32(0, 0xffffffff, true);
    const cases: [Uint8Array, number[], string][] = [
      [lie, [2], 'inputs[0] binary data: element 0: length 4294967295 runs past the end of its 11 bytes'],
      [good.subarray(0, 8), [2], 'inputs[0] binary data: element 1: its 4-byte length is cut off at byte 6'],
      [good, [3], 'inputs[0] binary data: holds 2 BYTES elements, the shape needs 3'],
      [good, [1], "inputs[0] binary data: holds more than the shape's 1 BYTES elements"],
    ];
    for (const [wire, shape, message] of cases) {
      const { body, headerLength } = binaryBody(header(wire.length, 'BYTES', shape), wire);
      expect(refusal(body, { headerLength }).message).toBe(message);
    }
  });
});

describe('hostile requests are refused before anything large is allocated', () => {
  it('a shape whose product is astronomically large (413)', () => {
    const r = refusal(json({ inputs: [input({ shape: [2 ** 52, 2 ** 52, 2 ** 52], data: [] })] }));
    expect(r).toEqual({
      status: 413,
      message: `inputs[0].shape: [${2 ** 52}, ${2 ** 52}, ${2 ** 52}] holds more than 67108864 elements, the limit of one tensor`,
    });
  });

  it('a shape within the element limit whose bytes exceed the tensor limit (413)', () => {
    const r = refusal(json({ inputs: [input({ shape: [1000, 1000], datatype: 'FP64', data: [] })] }), {
      limits: { maxTensorBytes: 1_000_000 },
    });
    expect(r).toEqual({
      status: 413,
      message: 'inputs[0].shape: [1000, 1000] of FP64 is 8000000 bytes, more than the limit of 1000000',
    });
  });

  it('a huge shape with a tiny data array is counted, not allocated', () => {
    const r = refusal(json({ inputs: [input({ shape: [8192, 8192], data: [1] })] }));
    expect(r.message).toBe('inputs[0].data: holds 1 element, but shape [8192, 8192] needs 67108864');
  });

  it('too many dimensions', () => {
    expect(refusal(json({ inputs: [input({ shape: new Array(17).fill(1), data: [1] })] })).message).toBe(
      'inputs[0].shape: 17 dimensions, more than the limit of 16',
    );
  });

  it('data nested deeper than the rank limit, and JSON nested 100,000 deep', () => {
    let deep: unknown = [1];
    for (let i = 0; i < 20; i++) deep = [deep];
    expect(refusal(json({ inputs: [input({ shape: [1], data: deep })] })).message).toMatch(
      /^inputs\[0\]\.data(\[0\])+: nested deeper than 16 levels$/,
    );
    const text = `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]}`;
    expect(refusal(enc.encode(text)).message).toMatch(/nested deeper than 16 levels|not valid JSON/);
  });

  it('too many inputs', () => {
    const inputs = Array.from({ length: 65 }, (_, i) => input({ name: `x${i}` }));
    expect(refusal(json({ inputs })).message).toBe('inputs: more than 64 inputs');
  });

  it('a BYTES binary_data_size over the tensor limit (413)', () => {
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 's', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 100 } }] },
      new Uint8Array(100),
    );
    expect(refusal(body, { headerLength, limits: { maxTensorBytes: 50 } })).toEqual({
      status: 413,
      message: 'inputs[0].parameters.binary_data_size: 100 bytes, more than the limit of 50',
    });
  });

  it('random bytes and truncations of a valid request are refused with a ProtocolError, never a crash', () => {
    const u32 = bytesOf(new Uint32Array([1, 2, 3, 4]));
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: 'a', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
          { name: 's', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 7 } },
        ],
      },
      u32,
      serializeBytes([enc.encode('abc')]),
    );
    expect(parseInferRequest(body, { headerLength }).inputs).toHaveLength(2);
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const b = body.slice(0, Math.floor(rand() * (body.length + 1)));
      for (let k = 0; k < 3; k++) if (b.length) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const h = rand() < 0.5 ? headerLength : String(Math.floor(rand() * (b.length + 2)));
      try {
        parseInferRequest(b, { headerLength: h });
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
      }
    }
  });
});
