// Inference responses: the JSON form of inference_rest.md ("Inference Response JSON Object") and Triton's binary
// tensor data extension (each output asked for as binary carries `binary_data_size`, its bytes follow the JSON
// object in the order of `outputs`, and Inference-Header-Content-Length gives the JSON object's length).
import {
  DATATYPE_SIZE,
  type FixedDatatype,
  type TensorData,
  fromLittleEndian,
  serializeBytes,
  toLittleEndian,
} from './datatypes.js';
import { classify } from './classification.js';
import { deserializeBytes } from './tensor-data.js';
import {
  type InferRequest,
  type InferResponse,
  type Parameters,
  ProtocolError,
  type ResponseOutput,
  type Tensor,
} from './types.js';

/** An encoded response: the body and the headers that go with it. */
export interface EncodedResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface EncodeOptions {
  /** Labels per output name, for the classification extension (Triton's `label_filename`). */
  labels?: Record<string, readonly string[]>;
  /** Whether the model's first dimension is the batch (max_batch_size > 0): classification is then per row. */
  batched?: boolean;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A tensor's bytes on the wire: little-endian elements, or BYTES' length-prefixed elements. */
export function tensorBytes(t: Tensor): Uint8Array {
  if (t.datatype === 'BYTES') return serializeBytes(t.data as Uint8Array[]);
  return toLittleEndian(t.data as Exclude<TensorData, Uint8Array[]>, DATATYPE_SIZE[t.datatype]);
}

/** The JSON text of a tensor's elements, flattened. 64-bit integers are written exactly, as JSON allows. */
function jsonData(t: Tensor): string {
  switch (t.datatype) {
    case 'FP16':
    case 'BF16':
      throw new ProtocolError(
        `output '${t.name}' is ${t.datatype}, which has no JSON form; request it with 'binary_data': true`,
      );
    case 'BYTES': {
      const parts: string[] = [];
      for (const e of t.data as Uint8Array[]) {
        let s: string;
        try {
          s = utf8Decoder.decode(e);
        } catch {
          throw new ProtocolError(
            `output '${t.name}' holds bytes that are not UTF-8, which JSON cannot carry; request it with 'binary_data': true`,
          );
        }
        parts.push(JSON.stringify(s));
      }
      return `[${parts.join(',')}]`;
    }
    case 'BOOL':
      return `[${Array.from(t.data as Uint8Array, (b) => (b ? 'true' : 'false')).join(',')}]`;
    case 'FP32':
    case 'FP64': {
      const d = t.data as Float32Array | Float64Array;
      for (const v of d) {
        if (!Number.isFinite(v)) {
          throw new ProtocolError(
            `output '${t.name}' holds ${v}, which JSON cannot carry; request it with 'binary_data': true`,
            500,
          );
        }
      }
      return `[${Array.prototype.join.call(d, ',')}]`;
    }
    default:
      return `[${Array.prototype.join.call(t.data, ',')}]`;
  }
}

/**
 * Encodes an inference response for the request that asked for it: only the outputs it named (all when it named
 * none), in its order; classification applied where asked; each output as binary data or JSON as asked
 * (`binary_data`, else `binary_data_output`).
 */
export function encodeInferResponse(
  response: InferResponse,
  request: Pick<InferRequest, 'outputs' | 'binaryDataOutput'>,
  options: EncodeOptions = {},
): EncodedResponse {
  const byName = new Map(response.outputs.map((o) => [o.name, o]));
  const chosen: { tensor: ResponseOutput; binary: boolean }[] = [];
  if (request.outputs.length === 0) {
    for (const o of response.outputs) chosen.push({ tensor: o, binary: request.binaryDataOutput });
  } else {
    request.outputs.forEach((r, i) => {
      const o = byName.get(r.name);
      if (!o) {
        throw new ProtocolError(
          `outputs[${i}].name: model '${response.model_name}' has no output '${r.name}'; it has ${[...byName.keys()].join(', ')}`,
        );
      }
      const labels = options.labels?.[r.name];
      const tensor =
        r.classification > 0
          ? classify(o, r.classification, { batched: options.batched ?? false, ...(labels ? { labels } : {}) })
          : o;
      chosen.push({ tensor, binary: r.binary });
    });
  }

  const blobs: Uint8Array[] = [];
  const parts: string[] = [];
  for (const { tensor, binary } of chosen) {
    const parameters: Parameters = { ...(tensor.parameters ?? {}) };
    let data = '';
    if (binary) {
      const bytes = tensorBytes(tensor);
      parameters.binary_data_size = bytes.length;
      blobs.push(bytes);
    } else {
      data = `,"data":${jsonData(tensor)}`;
    }
    const head = JSON.stringify({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape,
      ...(Object.keys(parameters).length ? { parameters } : {}),
    });
    parts.push(`${head.slice(0, -1)}${data}}`);
  }
  const top = JSON.stringify({
    model_name: response.model_name,
    ...(response.model_version !== undefined ? { model_version: response.model_version } : {}),
    ...(response.id !== undefined ? { id: response.id } : {}),
    ...(response.parameters && Object.keys(response.parameters).length ? { parameters: response.parameters } : {}),
  });
  const header = utf8.encode(`${top.slice(0, -1)}${top.length > 2 ? ',' : ''}"outputs":[${parts.join(',')}]}`);
  if (blobs.length === 0) {
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: header };
  }
  let total = header.length;
  for (const b of blobs) total += b.length;
  const body = new Uint8Array(total);
  body.set(header);
  let at = header.length;
  for (const b of blobs) {
    body.set(b, at);
    at += b.length;
  }
  return {
    status: 200,
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    body,
  };
}

/** The error answer: `{ "error": "..." }` with the error's status (500 for anything that is not a ProtocolError). */
export function encodeError(error: unknown): EncodedResponse {
  const e =
    error instanceof ProtocolError
      ? error
      : new ProtocolError(`internal error: ${(error as Error)?.message ?? error}`, 500);
  return {
    status: e.status,
    headers: { 'Content-Type': 'application/json' },
    body: utf8.encode(JSON.stringify(e.toBody())),
  };
}

/** A JSON answer (metadata, readiness). */
export function encodeJson(value: unknown, status = 200): EncodedResponse {
  return { status, headers: { 'Content-Type': 'application/json' }, body: utf8.encode(JSON.stringify(value)) };
}

/**
 * The client side: decodes a response body (JSON, or JSON header then binary outputs) into tensors. JSON data of
 * INT64/UINT64 beyond 2^53 loses precision here, as JSON.parse reads numbers as doubles.
 */
export function decodeInferResponse(body: Uint8Array, headerLength?: string | number | null): InferResponse {
  const n = headerLength === undefined || headerLength === null ? body.length : Number(headerLength);
  if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
    throw new ProtocolError(`Inference-Header-Content-Length: ${headerLength} does not fit a ${body.length}-byte body`);
  }
  const json = JSON.parse(utf8Decoder.decode(body.subarray(0, n))) as {
    model_name: string;
    model_version?: string;
    id?: string;
    parameters?: Parameters;
    outputs: { name: string; datatype: string; shape: number[]; parameters?: Parameters; data?: unknown[] }[];
  };
  let at = n;
  const outputs: ResponseOutput[] = json.outputs.map((o) => {
    const count = o.shape.reduce((a, d) => a * d, 1);
    const size = o.parameters?.binary_data_size;
    let data: TensorData;
    if (typeof size === 'number') {
      if (at + size > body.length) throw new ProtocolError(`output '${o.name}': binary data runs past the body`);
      const bytes = body.subarray(at, at + size);
      at += size;
      data =
        o.datatype === 'BYTES'
          ? deserializeBytes(`output '${o.name}'`, bytes, count)
          : fromLittleEndian(o.datatype as FixedDatatype, bytes);
    } else {
      const flat = (o.data ?? []).flat(64) as unknown[];
      if (o.datatype === 'BYTES') data = flat.map((s) => utf8.encode(String(s)));
      else {
        const values = fromLittleEndian(o.datatype as FixedDatatype, new Uint8Array(0));
        const Ctor = values.constructor as unknown as { from(a: unknown[]): TensorData };
        data =
          o.datatype === 'INT64' || o.datatype === 'UINT64'
            ? Ctor.from(flat.map((v) => BigInt(v as number)))
            : Ctor.from(flat.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
      }
    }
    const out: ResponseOutput = {
      name: o.name,
      datatype: o.datatype as ResponseOutput['datatype'],
      shape: o.shape,
      data,
    };
    if (o.parameters) out.parameters = o.parameters;
    return out;
  });
  const res: InferResponse = { model_name: json.model_name, outputs };
  if (json.model_version !== undefined) res.model_version = json.model_version;
  if (json.id !== undefined) res.id = json.id;
  if (json.parameters !== undefined) res.parameters = json.parameters;
  return res;
}
