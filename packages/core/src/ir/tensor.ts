/** Element types the IR carries. Names follow ONNX's TensorProto.DataType, lower-cased. */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** ONNX's TensorProto.DataType code of each dtype (as Cast's `to` attribute and the file's data_type give it). */
export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

/** The dtype of an ONNX TensorProto.DataType code, or undefined for one the IR does not carry. */
export function dtypeOfCode(code: number): DType | undefined {
  return (Object.keys(DTYPE_CODE) as DType[]).find((d) => DTYPE_CODE[d] === code);
}

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

/** float16 is carried as its raw bits (Uint16Array); bool as 0/1 bytes. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

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
  int8: 1,
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
