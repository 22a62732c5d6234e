// The proof from outside for the protocol: tools/fixtures/oip_client.py lays out requests and reads responses as
// Triton's Python client (tritonclient.http) does, line for line. Our parser decodes its exact bytes, it decodes
// our responses, and it talks to a node:http server built on this codec.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipUnless } from '@mobilenet/test-support';
import { DATATYPES, type Datatype } from './datatypes.js';
import { parseInferRequest } from './request.js';
import { encodeInferResponse } from './response.js';
import { startTestServer } from '../../test/test-server.js';
import type { ResponseOutput, Tensor } from './types.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const CLIENT = resolve(import.meta.dirname, '../../../../tools/fixtures/oip_client.py');
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-oip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pythonMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import numpy, requests'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found`;
  if (r.status !== 0) return `${PYTHON} cannot import numpy and requests (Debian: python3-numpy python3-requests)`;
  return null;
}
const skip = skipUnless('Python with numpy and requests', pythonMissing());
if (skip) console.warn(`skipping the Python client checks: ${skip}`);

interface Plain {
  dtype: string;
  shape: number[];
  values?: (number | boolean | string)[];
  bits?: number[];
  hex?: string[];
  datatype?: string;
}

const NUMPY: Record<Datatype, string> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BF16: 'float32',
  BYTES: 'object',
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A tensor in the form oip_client.py's plain() prints a numpy array. */
function plain(t: Tensor): Plain {
  const base = { dtype: NUMPY[t.datatype], shape: t.shape };
  if (t.datatype === 'BYTES') return { ...base, hex: (t.data as Uint8Array[]).map(hex) };
  if (t.datatype === 'FP16') return { ...base, bits: [...(t.data as Uint16Array)] };
  if (t.datatype === 'BOOL') return { ...base, values: [...(t.data as Uint8Array)].map((v) => v === 1) };
  if (t.datatype === 'INT64' || t.datatype === 'UINT64') {
    return { ...base, values: [...(t.data as BigInt64Array)].map(String) };
  }
  return { ...base, values: [...(t.data as Int32Array)] };
}

function runPython(args: string[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, [CLIENT, ...args], { timeout: 120_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`oip_client.py ${args[0]} exited ${code}: ${err}`));
      else
        resolvePromise(
          out
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l)),
        );
    });
  });
}

describe.skipIf(skip !== null)("Triton's Python client (tritonclient.http, reproduced)", () => {
  it('its request bytes, binary and JSON, every datatype, parse to the arrays it sent', async () => {
    const enc = join(dir, 'requests');
    const listed = await runPython(['encode', enc]);
    expect(listed.map((c) => c.case)).toEqual([
      'simple_binary',
      'simple_json',
      'simple_no_outputs',
      'all_types_binary',
      'all_types_json',
      'classification',
      'classification_json',
    ]);
    for (const name of readdirSync(enc).filter((f) => f.endsWith('.bin'))) {
      const body = new Uint8Array(readFileSync(join(enc, name)));
      const meta = JSON.parse(readFileSync(join(enc, name.replace('.bin', '.json')), 'utf8')) as {
        header_length: number | null;
        inputs: Record<string, Plain>;
      };
      const request = parseInferRequest(body, { headerLength: meta.header_length });
      const got = Object.fromEntries(request.inputs.map((i) => [i.name, plain(i)]));
      expect(got, name).toEqual(meta.inputs);
      if (name === 'simple_no_outputs.bin') {
        // No outputs named: the client sets binary_data_output (http/_utils.py lines 119-122).
        expect([request.binaryDataOutput, request.outputs, request.timeoutMicroseconds]).toEqual([true, [], 1000000]);
      }
      if (name === 'classification.bin') expect(request.outputs[0]).toMatchObject({ classification: 3, binary: true });
    }
  });

  it('it reads our responses: every datatype as binary, as JSON, and classification strings', async () => {
    const out = join(dir, 'responses');
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    const sample: Record<Datatype, ResponseOutput['data']> = {
      BOOL: new Uint8Array([1, 0, 1]),
      UINT8: new Uint8Array([0, 7, 255]),
      UINT16: new Uint16Array([0, 7, 65535]),
      UINT32: new Uint32Array([0, 7, 4294967295]),
      UINT64: new BigUint64Array([0n, 7n, 2n ** 64n - 1n]),
      INT8: new Int8Array([-128, 7, 127]),
      INT16: new Int16Array([-32768, 7, 32767]),
      INT32: new Int32Array([-2147483648, 7, 2147483647]),
      INT64: new BigInt64Array([-(2n ** 63n), 7n, 2n ** 63n - 1n]),
      FP16: new Uint16Array([0x3800, 0xc000, 0x7bff]),
      FP32: new Float32Array([0.1, -2.5, 3.4e38]),
      FP64: new Float64Array([0.1, -2.5, 1e300]),
      BF16: new Uint16Array([0x3f80, 0, 0]),
      BYTES: [new Uint8Array(), new TextEncoder().encode('café'), new Uint8Array([0, 0xff, 0x20])],
    };
    // BF16 is left out: the client's deserialize_bf16_tensor is not reproduced.
    const types = DATATYPES.filter((d) => d !== 'BF16');
    const outputs: ResponseOutput[] = types.map((d) => ({ name: d, datatype: d, shape: [1, 3], data: sample[d] }));
    const jsonSafe = outputs.filter((o) => !['FP16', 'UINT64', 'INT64', 'BYTES'].includes(o.name));
    const scores: ResponseOutput = {
      name: 'S',
      datatype: 'FP32',
      shape: [2, 4],
      data: new Float32Array([1.1, 3.3, 0.5, 2.4, 0, -1, 9, 4]),
    };
    const write = (name: string, r: ReturnType<typeof encodeInferResponse>) => {
      writeFileSync(join(out, `${name}.bin`), r.body);
      writeFileSync(join(out, `${name}.header`), r.headers['Inference-Header-Content-Length'] ?? '');
    };
    const req = (os: { name: string; binary?: boolean; classification?: number }[], all = false) => ({
      binaryDataOutput: all,
      outputs: os.map((o) => ({ binary: false, classification: 0, parameters: {}, ...o })),
    });
    write('binary', encodeInferResponse({ model_name: 'm', outputs }, req([], true)));
    write('json', encodeInferResponse({ model_name: 'm', outputs: jsonSafe }, req([])));
    write(
      'mixed',
      encodeInferResponse(
        { model_name: 'm', outputs },
        req([{ name: 'BYTES', binary: true }, { name: 'INT32' }, { name: 'FP16', binary: true }]),
      ),
    );
    write(
      'classes',
      encodeInferResponse(
        { model_name: 'm', outputs: [scores] },
        req([{ name: 'S', binary: true, classification: 2 }]),
        {
          batched: true,
          labels: { S: ['a', 'b', 'c', 'd'] },
        },
      ),
    );
    const decoded = Object.fromEntries(
      (await runPython(['decode', out, 'binary', 'json', 'mixed', 'classes'])).map((r) => [r.case, r.outputs]),
    ) as Record<string, Record<string, Plain>>;
    const expected = (list: ResponseOutput[]) =>
      Object.fromEntries(list.map((o) => [o.name, { ...plain(o), datatype: o.datatype }]));
    expect(decoded.binary).toEqual(expected(outputs));
    expect(decoded.json).toEqual(expected(jsonSafe));
    expect(decoded.mixed).toEqual(expected(outputs.filter((o) => ['BYTES', 'INT32', 'FP16'].includes(o.name))));
    expect(decoded.classes!.S!.hex!.map((h) => Buffer.from(h, 'hex').toString())).toEqual([
      '3.300000:1:b',
      '2.400000:3:d',
      '9.000000:2:c',
      '4.000000:3:d',
    ]);
    expect(decoded.classes!.S!.shape).toEqual([2, 2]);
  });

  it('round trip against a node:http server on this codec: endpoints, every case, and the errors', async () => {
    await runPython(['encode', join(dir, 'requests')]); // what was sent, to compare the echoes with
    const server = await startTestServer();
    try {
      const lines = await runPython(['infer', server.url]);
      const gets = Object.fromEntries(lines.filter((l) => l.get).map((l) => [l.get, [l.status, l.body]]));
      expect(gets).toEqual({
        v2: [200, { name: 'mobilenet-serve-test', version: '0', extensions: ['binary_tensor_data', 'classification'] }],
        'v2/health/live': [200, { live: true }],
        'v2/health/ready': [200, { ready: true }],
        'v2/models/simple': [200, expect.objectContaining({ name: 'simple', platform: 'dummy' })],
        'v2/models/simple/versions/1': [200, expect.objectContaining({ name: 'simple' })],
        'v2/models/simple/ready': [200, { name: 'simple', ready: true }],
        'v2/models/nope': [404, { error: "unknown model 'nope'" }],
        'v2/models/simple/versions/7': [404, { error: "model 'simple' has no version '7'; it has 1" }],
      });
      const cases = Object.fromEntries(lines.filter((l) => l.case).map((l) => [l.case, l])) as Record<
        string,
        { status: number; id?: string; error?: string; content_type?: string; outputs: Record<string, Plain> }
      >;
      const range = (f: (i: number) => number) => Array.from({ length: 16 }, (_, i) => f(i));
      const simple = {
        OUTPUT0: { dtype: 'int32', shape: [1, 16], values: range((i) => i + 1), datatype: 'INT32' },
        OUTPUT1: { dtype: 'int32', shape: [1, 16], values: range((i) => i - 1), datatype: 'INT32' },
      };
      expect(cases.simple_binary).toMatchObject({
        status: 200,
        id: '1',
        content_type: 'application/octet-stream',
        outputs: simple,
      });
      expect(cases.simple_json).toMatchObject({ status: 200, content_type: 'application/json', outputs: simple });
      expect(cases.simple_no_outputs).toMatchObject({ status: 200, outputs: simple });
      // Every datatype survives the trip, as binary (64-bit extremes, FP16 bits, non-UTF-8 BYTES) and as JSON.
      const echoed = (c: string) =>
        Object.fromEntries(Object.entries(cases[c]!.outputs).map(([k, v]) => [k, { ...v, datatype: undefined }]));
      const sent = JSON.parse(readFileSync(join(dir, 'requests', 'all_types_binary.json'), 'utf8')).inputs;
      const sentJson = JSON.parse(readFileSync(join(dir, 'requests', 'all_types_json.json'), 'utf8')).inputs;
      const strip = (o: Record<string, Plain>) =>
        Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { ...v, datatype: undefined }]));
      expect(echoed('all_types_binary')).toEqual(strip(sent));
      expect(echoed('all_types_json')).toEqual(strip(sentJson));
      const classes = (c: string) => cases[c]!.outputs.SCORES!.hex!.map((h) => Buffer.from(h, 'hex').toString());
      expect(classes('classification')).toEqual([
        '3.300000:1:one',
        '2.400000:3',
        '1.100000:0:zero',
        '9.000000:2:two',
        '4.000000:3',
        '0.000000:0:zero',
      ]);
      expect(cases.classification!.outputs.SCORES!.shape).toEqual([2, 3]);
      expect(classes('classification_json')).toEqual(['3.300000:1:one', '2.400000:3']);
      expect(cases.fp16_json).toMatchObject({
        status: 400,
        error: expect.stringMatching(/^inputs\[0\]\.data: FP16 has no JSON form/),
      });
      expect(cases.custom_parameter).toEqual({
        case: 'custom_parameter',
        status: 400,
        error: 'parameters.foo: unknown parameter; this server knows binary_data_output, timeout, priority',
      });
      expect(cases.unknown_model).toMatchObject({ status: 404, error: "unknown model 'nope'" });
      expect(cases.shape_mismatch).toMatchObject({
        status: 400,
        error: 'inputs[0].data: holds 8 elements, but shape [1, 16] needs 16',
      });
    } finally {
      await server.close();
    }
  });
});
