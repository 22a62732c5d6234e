// The strict parser of inference requests: the JSON form of inference_rest.md ("Inference Request JSON Object",
// "Tensor Data") and Triton's binary tensor data extension (triton-inference-server/server, docs/protocol/
// extension_binary_data.md): a JSON header of Inference-Header-Content-Length bytes, then each binary input's
// bytes in the order of `inputs`.
//
// Every refusal is a ProtocolError naming the field (`inputs[0].datatype: ...`). Hostile requests are bounded:
// the header length is checked against the body, shapes are multiplied against a limit before anything is
// allocated, JSON data is counted before it is copied, nesting is bounded by the tensor rank limit, and binary
// sizes must fit in what the body holds.
import {
  DATATYPES,
  DATATYPE_SIZE,
  type Datatype,
  type FixedDatatype,
  type TensorData,
  allocate,
  fromLittleEndian,
  isDatatype,
} from './datatypes.js';
import {
  type InferRequest,
  type MetadataTensor,
  type Parameters,
  ProtocolError,
  type RequestInput,
  type RequestOutput,
} from './types.js';

/** Bounds on one request, each refused with a clear error (HTTP 413 for sizes, 400 for the rest). */
export interface RequestLimits {
  /** Elements in one tensor. */
  maxElements: number;
  /** Bytes of one decoded tensor (a BYTES tensor: its elements' bytes plus 4 per element). */
  maxTensorBytes: number;
  /** Dimensions of one shape; JSON data may nest no deeper. */
  maxRank: number;
  /** Inputs, and requested outputs, in one request. */
  maxTensors: number;
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  maxElements: 64 * 1024 * 1024,
  maxTensorBytes: 256 * 1024 * 1024,
  maxRank: 16,
  maxTensors: 64,
};

/** Parameter names that this parser knows, per place. Others are refused unless `allowParameters` names them. */
export const KNOWN_PARAMETERS = {
  request: ['binary_data_output', 'timeout', 'priority'],
  input: ['binary_data_size'],
  output: ['binary_data', 'classification'],
} as const;

/** Parameters of Triton's that this server does not implement, with the reason given when a request uses one. */
const UNSUPPORTED_PARAMETERS: Record<string, string> = {
  shared_memory_region: 'the shared-memory extension is not supported by this server',
  shared_memory_byte_size: 'the shared-memory extension is not supported by this server',
  shared_memory_offset: 'the shared-memory extension is not supported by this server',
  sequence_id: 'sequence batching is not supported by this server (its models are stateless)',
  sequence_start: 'sequence batching is not supported by this server (its models are stateless)',
  sequence_end: 'sequence batching is not supported by this server (its models are stateless)',
};

export interface ParseRequestOptions {
  /**
   * The Inference-Header-Content-Length header as received (a string), or its value; absent when the request has
   * none (then the whole body is the JSON object). "0" is Triton's raw binary request: see `rawInput`.
   */
  headerLength?: string | number | null;
  limits?: Partial<RequestLimits>;
  /** Server-specific parameter names to accept (and pass on in `parameters`) besides the known ones. */
  allowParameters?: { request?: readonly string[]; input?: readonly string[]; output?: readonly string[] };
  /**
   * For a raw binary request (Inference-Header-Content-Length: 0): the model's one input, its shape with at most
   * one variable (-1) dimension once a leading batch dimension is set to 1 (`batched`). Without it such requests
   * are refused.
   */
  rawInput?: MetadataTensor & { batched?: boolean };
}

const REQUEST_FIELDS = ['id', 'parameters', 'inputs', 'outputs', 'model_name', 'model_version'];
const INPUT_FIELDS = ['name', 'shape', 'datatype', 'parameters', 'data'];
const OUTPUT_FIELDS = ['name', 'parameters'];

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
};

function fail(path: string, message: string, status = 400): never {
  throw new ProtocolError(path ? `${path}: ${message}` : message, status);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkFields(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      fail(path, `unknown field '${key}'; expected only ${allowed.join(', ')}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Parses the Inference-Header-Content-Length header: digits only, no more than the body holds. */
export function parseHeaderLength(value: string | number, bodyLength: number): number {
  const text = String(value).trim();
  if (!/^[0-9]+$/.test(text)) {
    fail('Inference-Header-Content-Length', `expected a non-negative integer, received ${describe(text)}`);
  }
  const n = Number(text);
  if (n > bodyLength) {
    fail('Inference-Header-Content-Length', `${text} is more than the ${bodyLength} bytes of the request body`);
  }
  return n;
}

/** Reads `$parameters`: an object of string, number or boolean values, each name known or allowed. */
function readParameters(path: string, value: unknown, known: readonly string[], allowed: readonly string[] = []) {
  if (value === undefined) return {};
  if (!isObject(value)) return fail(path, `expected an object, received ${describe(value)}`);
  const out: Parameters = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      fail(`${path}.${key}`, `expected a string, number or boolean, received ${describe(v)}`);
    }
    if (!known.includes(key) && !allowed.includes(key)) {
      const why = UNSUPPORTED_PARAMETERS[key];
      if (why) fail(`${path}.${key}`, why);
      fail(`${path}.${key}`, `unknown parameter; this server knows ${known.join(', ')}`);
    }
    out[key] = v as string | number | boolean;
  }
  return out;
}

function readBool(path: string, v: string | number | boolean | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(path, `expected a boolean, received ${describe(v)}`);
  return v as boolean;
}

function readCount(path: string, v: string | number | boolean | undefined, max = Number.MAX_SAFE_INTEGER) {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    fail(path, `expected an integer from 0 to ${max}, received ${describe(v)}`);
  }
  return v as number;
}

/** Elements in a shape, refused before the product can exceed the limit. */
function elementCount(path: string, shape: unknown, limits: RequestLimits): { shape: number[]; n: number } {
  if (!Array.isArray(shape)) return fail(path, `expected an array of dimensions, received ${describe(shape)}`);
  if (shape.length > limits.maxRank) {
    fail(path, `${shape.length} dimensions, more than the limit of ${limits.maxRank}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`${path}[${i}]`, `expected a non-negative integer, received ${describe(d)}`);
    }
    dims.push(d as number);
  }
  if (dims.includes(0)) return { shape: dims, n: 0 };
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (n > limits.maxElements) {
      fail(path, `[${dims.join(', ')}] holds more than ${limits.maxElements} elements, the limit of one tensor`, 413);
    }
  }
  return { shape: dims, n };
}

const INT_RANGE: Partial<Record<Datatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
const FP32_MAX = 3.4028234663852886e38;

/** Checks one JSON element against the datatype; returns an error message or null. */
function checkElement(datatype: Datatype, v: unknown): string | null {
  switch (datatype) {
    case 'BOOL':
      return typeof v === 'boolean' ? null : `expected true or false for BOOL, received ${describe(v)}`;
    case 'BYTES':
      return typeof v === 'string' ? null : `expected a string for BYTES, received ${describe(v)}`;
    case 'FP32':
      if (typeof v !== 'number') return `expected a number for FP32, received ${describe(v)}`;
      return Math.abs(v) <= FP32_MAX ? null : `${v} is outside FP32's range`;
    case 'FP64':
      return typeof v === 'number' ? null : `expected a number for FP64, received ${describe(v)}`;
    default: {
      const [lo, hi] = INT_RANGE[datatype]!;
      if (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi) return null;
      const wide = datatype === 'INT64' || datatype === 'UINT64';
      return (
        `expected an integer in [${lo}, ${hi}] for ${datatype}, received ${describe(v)}` +
        (wide ? ' (JSON numbers are exact only to 2^53; send wider values as binary data)' : '')
      );
    }
  }
}

/**
 * Counts and checks the leaves of JSON tensor data, in its natural nested form or flattened (both are allowed:
 * "Tensor Data"). Stops as soon as more leaves than `expected` are seen; nesting is bounded by `maxDepth`.
 */
function countLeaves(path: string, data: unknown[], datatype: Datatype, expected: number, maxDepth: number): number {
  let count = 0;
  const walk = (arr: unknown[], at: string, depth: number): void => {
    if (depth > maxDepth) fail(at, `nested deeper than ${maxDepth} levels`);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (Array.isArray(v)) {
        walk(v, `${at}[${i}]`, depth + 1);
        continue;
      }
      if (++count > expected) {
        fail(path, `holds more elements than the shape's ${expected}`);
      }
      const why = checkElement(datatype, v);
      if (why) fail(`${at}[${i}]`, why);
    }
  };
  walk(data, path, 1);
  return count;
}

function fillFromJson(data: unknown[], datatype: Datatype, n: number): TensorData {
  const leaves: unknown[] = [];
  const walk = (arr: unknown[]): void => {
    for (const v of arr) {
      if (Array.isArray(v)) walk(v);
      else leaves.push(v);
    }
  };
  walk(data);
  if (datatype === 'BYTES') return leaves.map((s) => utf8Encoder.encode(s as string));
  const out = allocate(datatype as FixedDatatype, n);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[i] = BigInt(leaves[i] as number);
  } else if (datatype === 'BOOL') {
    for (let i = 0; i < n; i++) out[i] = leaves[i] ? 1 : 0;
  } else {
    const o = out as Float64Array;
    for (let i = 0; i < n; i++) o[i] = leaves[i] as number;
  }
  return out;
}

/** Splits BYTES binary data into its elements (views into `bytes`), exactly `n` of them. */
export function deserializeBytes(path: string, bytes: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (out.length >= n) fail(path, `holds more than the shape's ${n} BYTES elements`);
    if (at + 4 > bytes.length) fail(path, `element ${out.length}: its 4-byte length is cut off at byte ${at}`);
    const len = view.getUint32(at, true);
    if (len > bytes.length - at - 4) {
      fail(path, `element ${out.length}: length ${len} runs past the end of its ${bytes.length} bytes`);
    }
    out.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (out.length !== n) fail(path, `holds ${out.length} BYTES elements, the shape needs ${n}`);
  return out;
}

function decodeBinary(path: string, datatype: Datatype, bytes: Uint8Array, n: number): TensorData {
  if (datatype === 'BYTES') return deserializeBytes(path, bytes, n);
  const data = fromLittleEndian(datatype, bytes);
  if (datatype === 'BOOL') {
    const bad = (data as Uint8Array).findIndex((b) => b > 1);
    if (bad >= 0) fail(path, `BOOL element ${bad} is byte ${data[bad]}; true is 1 and false is 0`);
  }
  return data;
}

/** Parses and validates an inference request body (JSON, or JSON header then binary tensors). */
export function parseInferRequest(body: Uint8Array, options: ParseRequestOptions = {}): InferRequest {
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const allow = options.allowParameters ?? {};
  const hasHeader = options.headerLength !== undefined && options.headerLength !== null;
  const headerLength = hasHeader ? parseHeaderLength(options.headerLength!, body.length) : body.length;
  if (hasHeader && headerLength === 0) return parseRawRequest(body, options.rawInput, limits);

  let text: string;
  try {
    text = utf8.decode(body.subarray(0, headerLength));
  } catch {
    return fail('', 'the request header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail('', `the request is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) return fail('', `expected the inference request object, received ${describe(json)}`);
  checkFields('', json, REQUEST_FIELDS);

  const request: InferRequest = {
    parameters: readParameters('parameters', json.parameters, KNOWN_PARAMETERS.request, allow.request),
    binaryDataOutput: false,
    inputs: [],
    outputs: [],
  };
  if (json.id !== undefined) {
    if (typeof json.id !== 'string') fail('id', `expected a string, received ${describe(json.id)}`);
    request.id = json.id as string;
  }
  for (const key of ['model_name', 'model_version'] as const) {
    const v = json[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') fail(key, `expected a string, received ${describe(v)}`);
    if (key === 'model_name') request.modelName = v as string;
    else request.modelVersion = v as string;
  }
  request.binaryDataOutput = readBool('parameters.binary_data_output', request.parameters.binary_data_output) ?? false;
  const timeout = readCount('parameters.timeout', request.parameters.timeout);
  if (timeout !== undefined) request.timeoutMicroseconds = timeout;
  const priority = readCount('parameters.priority', request.parameters.priority);
  if (priority !== undefined) request.priority = priority;

  // Inputs, with the binary section consumed in their order.
  if (!Array.isArray(json.inputs))
    return fail('inputs', `expected an array of inputs, received ${describe(json.inputs)}`);
  if (json.inputs.length > limits.maxTensors) fail('inputs', `more than ${limits.maxTensors} inputs`);
  const binary = body.subarray(headerLength);
  let offset = 0;
  const names = new Set<string>();
  for (let i = 0; i < json.inputs.length; i++) {
    const raw: unknown = json.inputs[i];
    const at = `inputs[${i}]`;
    if (!isObject(raw)) fail(at, `expected an input object, received ${describe(raw)}`);
    checkFields(at, raw, INPUT_FIELDS);
    if (typeof raw.name !== 'string' || raw.name === '') {
      fail(`${at}.name`, `expected a non-empty string, received ${describe(raw.name)}`);
    }
    const name = raw.name as string;
    if (names.has(name)) fail(`${at}.name`, `'${name}' is given twice`);
    names.add(name);
    if (!isDatatype(raw.datatype)) {
      fail(`${at}.datatype`, `expected one of ${DATATYPES.join(', ')}, received ${describe(raw.datatype)}`);
    }
    const datatype = raw.datatype as Datatype;
    const { shape, n } = elementCount(`${at}.shape`, raw.shape, limits);
    const parameters = readParameters(`${at}.parameters`, raw.parameters, KNOWN_PARAMETERS.input, allow.input);
    const size = readCount(`${at}.parameters.binary_data_size`, parameters.binary_data_size);
    const fixed = datatype === 'BYTES' ? 0 : DATATYPE_SIZE[datatype];
    if (fixed && n * fixed > limits.maxTensorBytes) {
      fail(
        `${at}.shape`,
        `[${shape.join(', ')}] of ${datatype} is ${n * fixed} bytes, more than the limit of ${limits.maxTensorBytes}`,
        413,
      );
    }
    let data: TensorData;
    if (size !== undefined) {
      if (raw.data !== undefined)
        fail(at, "gives both 'data' and 'binary_data_size'; an input's data is one or the other");
      if (!hasHeader && size > 0) {
        fail(`${at}.parameters.binary_data_size`, 'binary data needs the Inference-Header-Content-Length header');
      }
      if (size > binary.length - offset) {
        fail(
          `${at}.parameters.binary_data_size`,
          `${size} bytes, but only ${binary.length - offset} of the body's ${binary.length} bytes of binary data are left`,
        );
      }
      if (fixed && size !== n * fixed) {
        fail(
          `${at}.parameters.binary_data_size`,
          `shape [${shape.join(', ')}] of ${datatype} needs ${n * fixed} bytes, received ${size}`,
        );
      }
      if (!fixed && size > limits.maxTensorBytes) {
        fail(
          `${at}.parameters.binary_data_size`,
          `${size} bytes, more than the limit of ${limits.maxTensorBytes}`,
          413,
        );
      }
      data = decodeBinary(`${at} binary data`, datatype, binary.subarray(offset, offset + size), n);
      offset += size;
    } else {
      if (raw.data === undefined) fail(at, "has neither 'data' nor 'parameters.binary_data_size'");
      if (!Array.isArray(raw.data)) return fail(`${at}.data`, `expected an array, received ${describe(raw.data)}`);
      if (datatype === 'FP16' || datatype === 'BF16') {
        fail(
          `${at}.data`,
          `${datatype} has no JSON form (the specification: "fp16 and bf16 are problematic to communicate explicitly"); send it as binary data with 'binary_data_size'`,
        );
      }
      const count = countLeaves(`${at}.data`, raw.data, datatype, n, limits.maxRank);
      if (count !== n)
        fail(
          `${at}.data`,
          `holds ${count} element${count === 1 ? '' : 's'}, but shape [${shape.join(', ')}] needs ${n}`,
        );
      data = fillFromJson(raw.data, datatype, n);
      if (datatype === 'BYTES') {
        let total = 0;
        for (const e of data as Uint8Array[]) total += 4 + e.length;
        if (total > limits.maxTensorBytes)
          fail(`${at}.data`, `${total} bytes, more than the limit of ${limits.maxTensorBytes}`, 413);
      }
    }
    const input: RequestInput = { name, datatype, shape, data, parameters };
    request.inputs.push(input);
  }
  if (offset !== binary.length) {
    fail(
      '',
      `${binary.length - offset} bytes of binary data follow the last binary input (the inputs' binary_data_size add up to ${offset} of ${binary.length})`,
    );
  }

  // Requested outputs.
  if (json.outputs !== undefined) {
    if (!Array.isArray(json.outputs)) {
      return fail('outputs', `expected an array of outputs, received ${describe(json.outputs)}`);
    }
    if (json.outputs.length > limits.maxTensors) fail('outputs', `more than ${limits.maxTensors} outputs`);
    const seen = new Set<string>();
    for (let i = 0; i < json.outputs.length; i++) {
      const raw: unknown = json.outputs[i];
      const at = `outputs[${i}]`;
      if (!isObject(raw)) fail(at, `expected an output object, received ${describe(raw)}`);
      checkFields(at, raw, OUTPUT_FIELDS);
      if (typeof raw.name !== 'string' || raw.name === '') {
        fail(`${at}.name`, `expected a non-empty string, received ${describe(raw.name)}`);
      }
      const name = raw.name as string;
      if (seen.has(name)) fail(`${at}.name`, `'${name}' is requested twice`);
      seen.add(name);
      const parameters = readParameters(`${at}.parameters`, raw.parameters, KNOWN_PARAMETERS.output, allow.output);
      const output: RequestOutput = {
        name,
        binary: readBool(`${at}.parameters.binary_data`, parameters.binary_data) ?? request.binaryDataOutput,
        classification: readCount(`${at}.parameters.classification`, parameters.classification, 0xffffffff) ?? 0,
        parameters,
      };
      request.outputs.push(output);
    }
  }
  return request;
}

/**
 * Triton's raw binary request: the body is the one input's bytes, its shape deduced from their count (at most one
 * variable dimension; a batching model's batch dimension is 1). All outputs come back as binary data.
 */
function parseRawRequest(
  body: Uint8Array,
  input: ParseRequestOptions['rawInput'],
  limits: RequestLimits,
): InferRequest {
  const at = 'raw binary request';
  if (!input) {
    return fail(
      at,
      'Inference-Header-Content-Length: 0 sends only tensor bytes, which needs a model with exactly one input',
    );
  }
  if (input.datatype === 'BYTES') {
    return fail(at, 'a BYTES input cannot be sent as a raw binary request here; send a JSON header');
  }
  const size = DATATYPE_SIZE[input.datatype];
  const shape = input.shape.slice();
  if (input.batched && shape[0] === -1) shape[0] = 1;
  const variable = shape.filter((d) => d === -1).length;
  if (variable > 1) fail(at, `input '${input.name}' has ${variable} variable dimensions; a raw request allows one`);
  if (body.length > limits.maxTensorBytes)
    fail(at, `${body.length} bytes, more than the limit of ${limits.maxTensorBytes}`, 413);
  if (body.length % size !== 0) fail(at, `${body.length} bytes is not a whole number of ${input.datatype} elements`);
  const n = body.length / size;
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (variable === 1) {
    if (known === 0 || n % known !== 0)
      fail(at, `${n} elements do not fit input '${input.name}' of shape [${input.shape.join(', ')}]`);
    shape[shape.indexOf(-1)] = n / known;
  } else if (known !== n) {
    fail(at, `${n} elements, but input '${input.name}' of shape [${shape.join(', ')}] needs ${known}`);
  }
  return {
    parameters: {},
    binaryDataOutput: true,
    inputs: [
      {
        name: input.name,
        datatype: input.datatype,
        shape,
        data: decodeBinary(at, input.datatype, body, n),
        parameters: {},
      },
    ],
    outputs: [],
  };
}
