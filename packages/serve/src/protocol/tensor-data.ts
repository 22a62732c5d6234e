// Tensor data of a request: shapes counted against the limits before anything is allocated, JSON data checked
// leaf by leaf before it is copied, binary data (little-endian; BYTES as 4-byte length-prefixed elements) decoded.
import { type Datatype, type FixedDatatype, type TensorData, allocate, fromLittleEndian } from './datatypes.js';
import { describe, fail } from './fields.js';

const utf8Encoder = new TextEncoder();

/** Elements in a shape, refused before the product can exceed the limit. */
export function elementCount(
  path: string,
  shape: unknown,
  limits: { readonly maxRank: number; readonly maxElements: number },
): { shape: number[]; n: number } {
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
export function countLeaves(
  path: string,
  data: unknown[],
  datatype: Datatype,
  expected: number,
  maxDepth: number,
): number {
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

/** The leaves of checked JSON data (nested or flat) as the datatype's typed array, or BYTES elements. */
export function fillFromJson(data: unknown[], datatype: Datatype, n: number): TensorData {
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

/** One input's binary data as the datatype's typed array (BOOL bytes must be 0 or 1), or BYTES elements. */
export function decodeBinary(path: string, datatype: Datatype, bytes: Uint8Array, n: number): TensorData {
  if (datatype === 'BYTES') return deserializeBytes(path, bytes, n);
  const data = fromLittleEndian(datatype, bytes);
  if (datatype === 'BOOL') {
    const bad = (data as Uint8Array).findIndex((b) => b > 1);
    if (bad >= 0) fail(path, `BOOL element ${bad} is byte ${data[bad]}; true is 1 and false is 0`);
  }
  return data;
}
