/** Element types the IR carries. Names follow ONNX's TensorProto.DataType, lower-cased. */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

/** A dimension: a fixed size, or a symbolic name such as 'batch'. */
export type Dim = number | string;
export type Shape = readonly Dim[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A named value flowing between nodes. Every value in a built graph has a known shape. */
export interface Value {
  readonly name: string;
  readonly type: TensorType;
}

export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** A constant tensor stored in the graph (weights, BN statistics, scalar bounds). */
export interface Initializer {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** Absent when the graph was built for analysis only (`weights: 'none'`). */
  data?: TensorData;
}

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The size of a dimension for counting purposes: a symbolic batch counts as 1. */
export function concreteDim(d: Dim): number {
  return typeof d === 'number' ? d : 1;
}
