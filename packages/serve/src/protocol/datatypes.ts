// Tensor data types of the Open Inference Protocol (kserve/open-inference-protocol, specification/protocol/
// inference_rest.md, "Tensor Data Types"), plus BF16, which Triton and its clients also speak (binary only).

/** The datatypes of the specification's table, in its order, with BF16 (Triton's) before BYTES. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
] as const;

/** One tensor datatype as the protocol spells it. */
export type Datatype = (typeof DATATYPES)[number];

/** A datatype with a fixed element size: every one but BYTES. */
export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

/** Bytes per element; BYTES is variable (a 4-byte little-endian length, then the bytes, per element). */
export const DATATYPE_SIZE: Readonly<Record<FixedDatatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BF16: 2,
};

export const isDatatype = (s: unknown): s is Datatype => typeof s === 'string' && DATATYPES.includes(s as Datatype);

/**
 * The elements of a decoded tensor. Each fixed-size datatype has its typed array: BOOL as Uint8Array (0 or 1),
 * INT64/UINT64 as BigInt64Array/BigUint64Array, FP16 and BF16 as their raw 16-bit patterns (Uint16Array). BYTES is
 * one Uint8Array per element.
 */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[];

/** A typed array of `n` elements for a fixed-size datatype. */
export function allocate(datatype: FixedDatatype, n: number): Exclude<TensorData, Uint8Array[]> {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(n);
    case 'INT8':
      return new Int8Array(n);
    case 'UINT16':
    case 'FP16':
    case 'BF16':
      return new Uint16Array(n);
    case 'INT16':
      return new Int16Array(n);
    case 'UINT32':
      return new Uint32Array(n);
    case 'INT32':
      return new Int32Array(n);
    case 'UINT64':
      return new BigUint64Array(n);
    case 'INT64':
      return new BigInt64Array(n);
    case 'FP32':
      return new Float32Array(n);
    case 'FP64':
      return new Float64Array(n);
  }
}

/**
 * Little-endian bytes as a fresh typed array (copied: the bytes may sit at any offset of a request body, and typed
 * arrays need their element alignment). `bytes.length` must be a multiple of the element size.
 */
export function fromLittleEndian(datatype: FixedDatatype, bytes: Uint8Array): Exclude<TensorData, Uint8Array[]> {
  const size = DATATYPE_SIZE[datatype];
  const out = allocate(datatype, bytes.length / size);
  const target = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  target.set(bytes);
  if (!LITTLE_ENDIAN && size > 1) swapInPlace(target, size);
  return out;
}

/** The little-endian bytes of a typed array (a view where the host is little-endian, as every Node platform is). */
export function toLittleEndian(data: Exclude<TensorData, Uint8Array[]>, elementSize: number): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || elementSize === 1) return view;
  const copy = view.slice();
  swapInPlace(copy, elementSize);
  return copy;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** The BYTES wire form: for each element a 4-byte little-endian length, then its bytes. */
export function serializeBytes(elements: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of elements) total += 4 + e.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of elements) {
    view.setUint32(at, e.length, true);
    out.set(e, at + 4);
    at += 4 + e.length;
  }
  return out;
}
