// The only module that touches protobuf: onnx-proto's generated code over protobufjs.
import onnxProto from 'onnx-proto';
import { OnnxFormatError } from '../ir/errors.js';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type INodeProto = onnxProto.onnx.INodeProto;

/** protobufjs gives int64 fields as Long objects (or numbers); the IR uses numbers. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decodes bytes into a ModelProto, with an error that says what the bytes are when they are not ONNX. */
export function decodeModel(bytes: Uint8Array, source = 'model'): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(
      source,
      'an ONNX ModelProto',
      `${bytes.length} bytes that do not decode`,
      (e as Error).message,
    );
  }
  if (!model.graph || toNumber(model.irVersion) === 0) {
    throw new OnnxFormatError(
      source,
      'an ONNX model with ir_version and a graph',
      `${bytes.length} bytes without them`,
    );
  }
  return model;
}

export function defaultOpset(model: ModelProto): number {
  const imp = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return imp ? toNumber(imp.version) : 0;
}
