// The JSON objects of the Open Inference Protocol's HTTP/REST API, as inference_rest.md names them
// (kserve/open-inference-protocol, specification/protocol/inference_rest.md, "Payload Contents"), and the error
// every failure answers with.
import type { Datatype, TensorData } from './datatypes.js';

/** `$parameters`: name/value pairs whose values are a string, a number or a boolean. */
export type Parameters = Record<string, string | number | boolean>;

/** `$metadata_server_response` (GET /v2). */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** `$live_server_response` (GET /v2/health/live). */
export interface ServerLive {
  live: boolean;
}

/** `$ready_server_response` (GET /v2/health/ready); the specification's object names it `live` as well. */
export interface ServerReady {
  ready: boolean;
}

/** `$ready_model_response` (GET /v2/models/{m}[/versions/{v}]/ready). */
export interface ModelReady {
  name: string;
  ready: boolean;
}

/** `$metadata_tensor`: a dimension of -1 is variable. */
export interface MetadataTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** `$metadata_model_response` (GET /v2/models/{m}[/versions/{v}]). */
export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
}

/** `$inference_error_response` and the other error objects: `{ "error": "..." }`. */
export interface ErrorBody {
  error: string;
}

/** A tensor with its elements decoded, whichever way it travelled (JSON or binary). */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** An input of a parsed request: the tensor and the parameters it carried (binary_data_size included). */
export interface RequestInput extends Tensor {
  parameters: Parameters;
}

/** An output a request asked for, with what it asked of it. */
export interface RequestOutput {
  name: string;
  /** `binary_data`, or the request's `binary_data_output` where the output does not say. */
  binary: boolean;
  /** `classification`: the top-k as "value:index[:label]" strings; 0 where not asked. */
  classification: number;
  parameters: Parameters;
}

/** An inference request, validated and decoded. */
export interface InferRequest {
  id?: string;
  /** The request's `parameters`, as sent. */
  parameters: Parameters;
  /** `binary_data_output`: every output as binary unless the output says otherwise. */
  binaryDataOutput: boolean;
  /** `timeout` (Triton's request parameter, microseconds), where given. */
  timeoutMicroseconds?: number;
  /** `priority` (Triton's request parameter), where given. */
  priority?: number;
  /** `model_name` / `model_version` where the body carried them (Triton's binary-data example does). */
  modelName?: string;
  modelVersion?: string;
  inputs: RequestInput[];
  /** Empty when the request named none: then every output is returned. */
  outputs: RequestOutput[];
}

/** An output of a response, before encoding. */
export interface ResponseOutput extends Tensor {
  parameters?: Parameters;
}

/** An inference response, before encoding. */
export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutput[];
}

/**
 * A request the server refuses: `status` is the HTTP status to answer with, `message` the `error` string. Every
 * parser and encoder here throws this and nothing else for bad input.
 */
export class ProtocolError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'ProtocolError';
    this.status = status;
  }
  /** The body to answer with. */
  toBody(): ErrorBody {
    return { error: this.message };
  }
}
