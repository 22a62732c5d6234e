// @mobilenet/serve: the Open Inference Protocol (KServe v2) with Triton's binary-data and classification
// extensions, and Triton model repositories.
export {
  DATATYPES,
  DATATYPE_SIZE,
  type Datatype,
  type FixedDatatype,
  type TensorData,
  isDatatype,
  serializeBytes,
} from './protocol/datatypes.js';
export {
  type ErrorBody,
  type InferRequest,
  type InferResponse,
  type MetadataTensor,
  type ModelMetadata,
  type ModelReady,
  type Parameters,
  ProtocolError,
  type RequestInput,
  type RequestOutput,
  type ResponseOutput,
  type ServerLive,
  type ServerMetadata,
  type ServerReady,
  type Tensor,
} from './protocol/types.js';
export {
  DEFAULT_REQUEST_LIMITS,
  KNOWN_PARAMETERS,
  type ParseRequestOptions,
  type RequestLimits,
  parseHeaderLength,
  parseInferRequest,
} from './protocol/request.js';
export { deserializeBytes } from './protocol/tensor-data.js';
export {
  type EncodeOptions,
  type EncodedResponse,
  decodeInferResponse,
  encodeError,
  encodeInferResponse,
  encodeJson,
  tensorBytes,
} from './protocol/response.js';
export { classify, formatFixed6 } from './protocol/classification.js';
export {
  type TritonDataType,
  type TritonInstanceGroup,
  type TritonModelConfig,
  type TritonTensor,
  type WriteRepositoryOptions,
  type WrittenRepository,
  pbtxtString,
  tritonConfigText,
  tritonDataType,
  validateTritonConfig,
  writeTritonRepository,
} from './triton/config.js';
export { checkRequestAgainstModel } from './protocol/model.js';
export { EXTENSIONS, ROUTE_METHOD, type Route, matchRoute } from './protocol/routes.js';
export {
  Batcher,
  type BatcherOptions,
  type BatchReport,
  type BatchResult,
  OverloadedError,
  type RunBatch,
} from './server/batcher.js';
export { Histogram, Metrics, ModelMetrics } from './server/metrics.js';
export type { PreparedRows, ServedModel } from './server/model.js';
export { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './server/options.js';
export { type TextMessage, type TextValue, parseTextProto } from './server/pbtxt.js';
export { type RepositoryModel, readRepository } from './server/repository.js';
export { type RunningServer, startServer } from './server/server.js';
export { IMAGE_INPUT, type SessionModelOptions, sessionModel } from './server/session-model.js';
