// The strict parser of inference requests: the JSON form of inference_rest.md ("Inference Request JSON Object",
// "Tensor Data") and Triton's binary tensor data extension (triton-inference-server/server, docs/protocol/
// extension_binary_data.md): a JSON header of Inference-Header-Content-Length bytes, then each binary input's
// bytes in the order of `inputs`.
//
// Every refusal is a ProtocolError naming the field (`inputs[0].datatype: ...`). Hostile requests are bounded:
// the header length is checked against the body, shapes are multiplied against a limit before anything is
// allocated, JSON data is counted before it is copied, nesting is bounded by the tensor rank limit, and binary
// sizes must fit in what the body holds.
import { DATATYPES, DATATYPE_SIZE, type Datatype, type TensorData, isDatatype } from './datatypes.js';
import { checkFields, describe, fail, isObject, readBool, readCount } from './fields.js';
import { countLeaves, decodeBinary, elementCount, fillFromJson } from './tensor-data.js';
import type { InferRequest, MetadataTensor, Parameters, RequestInput, RequestOutput } from './types.js';

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

const utf8 = new TextDecoder('utf-8', { fatal: true });

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

/** Parses and validates an inference request body (JSON, or JSON header then binary tensors). */
export function parseInferRequest(body: Uint8Array, options: ParseRequestOptions = {}): InferRequest {
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const allow = options.allowParameters ?? {};
  const hasHeader = options.headerLength !== undefined && options.headerLength !== null;
  const headerLength = hasHeader ? parseHeaderLength(options.headerLength!, body.length) : body.length;
  if (hasHeader && headerLength === 0) return parseRawRequest(body, options.rawInput, limits);
  const json = readJson(body.subarray(0, headerLength));
  const request = readRequestFields(json, allow);
  const binary = { bytes: body.subarray(headerLength), offset: 0, hasHeader };
  request.inputs = readInputs(json.inputs, binary, limits, allow);
  if (binary.offset !== binary.bytes.length) {
    fail(
      '',
      `${binary.bytes.length - binary.offset} bytes of binary data follow the last binary input (the inputs' binary_data_size add up to ${binary.offset} of ${binary.bytes.length})`,
    );
  }
  if (json.outputs !== undefined) request.outputs = readOutputs(json.outputs, request.binaryDataOutput, limits, allow);
  return request;
}

type Allowed = NonNullable<ParseRequestOptions['allowParameters']>;
/** The binary section after the JSON header, consumed input by input in their order. */
interface BinarySection {
  readonly bytes: Uint8Array;
  offset: number;
  readonly hasHeader: boolean;
}

/** The JSON header: UTF-8, JSON, an object. */
function readJson(header: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(header);
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
  return json;
}

/** The request's own fields and parameters (inputs and outputs are read apart). */
function readRequestFields(json: Record<string, unknown>, allow: Allowed): InferRequest {
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
  return request;
}

/** A tensor's name: a non-empty string not given before (`twice` says how a repeat is worded). */
function readName(at: string, raw: Record<string, unknown>, names: Set<string>, twice: string): string {
  if (typeof raw.name !== 'string' || raw.name === '') {
    fail(`${at}.name`, `expected a non-empty string, received ${describe(raw.name)}`);
  }
  const name = raw.name as string;
  if (names.has(name)) fail(`${at}.name`, `'${name}' is ${twice}`);
  names.add(name);
  return name;
}

function readInputs(raw: unknown, binary: BinarySection, limits: RequestLimits, allow: Allowed): RequestInput[] {
  if (!Array.isArray(raw)) return fail('inputs', `expected an array of inputs, received ${describe(raw)}`);
  if (raw.length > limits.maxTensors) fail('inputs', `more than ${limits.maxTensors} inputs`);
  const names = new Set<string>();
  return raw.map((input: unknown, i) => readInput(`inputs[${i}]`, input, names, binary, limits, allow));
}

function readInput(
  at: string,
  raw: unknown,
  names: Set<string>,
  binary: BinarySection,
  limits: RequestLimits,
  allow: Allowed,
): RequestInput {
  if (!isObject(raw)) fail(at, `expected an input object, received ${describe(raw)}`);
  checkFields(at, raw, INPUT_FIELDS);
  const name = readName(at, raw, names, 'given twice');
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
  const tensor = { at, datatype, shape, n, fixed };
  const data =
    size !== undefined ? binaryData(tensor, size, raw.data, binary, limits) : jsonData(tensor, raw.data, limits);
  return { name, datatype, shape, data, parameters };
}

interface TensorAt {
  readonly at: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly n: number;
  /** Bytes per element; 0 for BYTES. */
  readonly fixed: number;
}

/** An input's `binary_data_size` bytes from the binary section. */
function binaryData(t: TensorAt, size: number, data: unknown, binary: BinarySection, limits: RequestLimits) {
  const { at, datatype, shape, n, fixed } = t;
  const left = binary.bytes.length - binary.offset;
  if (data !== undefined) fail(at, "gives both 'data' and 'binary_data_size'; an input's data is one or the other");
  if (!binary.hasHeader && size > 0) {
    fail(`${at}.parameters.binary_data_size`, 'binary data needs the Inference-Header-Content-Length header');
  }
  if (size > left) {
    fail(
      `${at}.parameters.binary_data_size`,
      `${size} bytes, but only ${left} of the body's ${binary.bytes.length} bytes of binary data are left`,
    );
  }
  if (fixed && size !== n * fixed) {
    fail(
      `${at}.parameters.binary_data_size`,
      `shape [${shape.join(', ')}] of ${datatype} needs ${n * fixed} bytes, received ${size}`,
    );
  }
  if (!fixed && size > limits.maxTensorBytes) {
    fail(`${at}.parameters.binary_data_size`, `${size} bytes, more than the limit of ${limits.maxTensorBytes}`, 413);
  }
  const bytes = binary.bytes.subarray(binary.offset, binary.offset + size);
  binary.offset += size;
  return decodeBinary(`${at} binary data`, datatype, bytes, n);
}

/** An input's JSON `data`, nested or flat, checked leaf by leaf before it is copied. */
function jsonData(t: TensorAt, raw: unknown, limits: RequestLimits): TensorData {
  const { at, datatype, shape, n } = t;
  if (raw === undefined) fail(at, "has neither 'data' nor 'parameters.binary_data_size'");
  if (!Array.isArray(raw)) return fail(`${at}.data`, `expected an array, received ${describe(raw)}`);
  if (datatype === 'FP16' || datatype === 'BF16') {
    fail(
      `${at}.data`,
      `${datatype} has no JSON form (the specification: "fp16 and bf16 are problematic to communicate explicitly"); send it as binary data with 'binary_data_size'`,
    );
  }
  const count = countLeaves(`${at}.data`, raw, datatype, n, limits.maxRank);
  if (count !== n)
    fail(`${at}.data`, `holds ${count} element${count === 1 ? '' : 's'}, but shape [${shape.join(', ')}] needs ${n}`);
  const data = fillFromJson(raw, datatype, n);
  if (datatype === 'BYTES') {
    let total = 0;
    for (const e of data as Uint8Array[]) total += 4 + e.length;
    if (total > limits.maxTensorBytes)
      fail(`${at}.data`, `${total} bytes, more than the limit of ${limits.maxTensorBytes}`, 413);
  }
  return data;
}

/** The requested outputs: names, `binary_data` (default: the request's), `classification`. */
function readOutputs(raw: unknown, binaryDefault: boolean, limits: RequestLimits, allow: Allowed): RequestOutput[] {
  if (!Array.isArray(raw)) return fail('outputs', `expected an array of outputs, received ${describe(raw)}`);
  if (raw.length > limits.maxTensors) fail('outputs', `more than ${limits.maxTensors} outputs`);
  const seen = new Set<string>();
  return raw.map((output: unknown, i) => {
    const at = `outputs[${i}]`;
    if (!isObject(output)) fail(at, `expected an output object, received ${describe(output)}`);
    checkFields(at, output, OUTPUT_FIELDS);
    const name = readName(at, output, seen, 'requested twice');
    const parameters = readParameters(`${at}.parameters`, output.parameters, KNOWN_PARAMETERS.output, allow.output);
    return {
      name,
      binary: readBool(`${at}.parameters.binary_data`, parameters.binary_data) ?? binaryDefault,
      classification: readCount(`${at}.parameters.classification`, parameters.classification, 0xffffffff) ?? 0,
      parameters,
    };
  });
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
