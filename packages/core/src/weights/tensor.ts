import { MobileNetError } from '../ir/errors.js';

/** Element types found in checkpoints, by safetensors' names. */
export type CheckpointDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<CheckpointDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Own keys only: a name such as 'toString' or '__proto__' must not match through the prototype. */
export function isDType(name: unknown): name is CheckpointDType {
  return typeof name === 'string' && Object.hasOwn(DTYPE_BYTES, name);
}

/** A checkpoint tensor: little-endian, row-major bytes (a view into the file where possible). */
export interface CheckpointTensor {
  readonly dtype: CheckpointDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

export type Checkpoint = ReadonlyMap<string, CheckpointTensor>;

export class CheckpointError extends MobileNetError {
  constructor(where: string, expected: string, received: string, detail?: string) {
    super('checkpoint', where, expected, received, detail);
    this.name = 'CheckpointError';
  }
}

/**
 * The largest strided copy we make (256 MiB): far above any MobileNet layer (the largest is 5 MB), and a bound on
 * what an expanded tensor of a few bytes in the file can cost in memory. Contiguous tensors are views, not copies.
 */
export const MAX_TENSOR_BYTES = 2 ** 28;

/**
 * Describes a value read from a file by its type and size, never by its contents: a hostile file can make a value
 * that is circular, deeply nested or exponentially large once printed ("billion laughs" through a pickle memo).
 */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return v === null ? 'None' : 'nothing';
  if (typeof v === 'string')
    return v.length <= 40 && !/[\0-\x1f]/.test(v) ? `'${v}'` : `a string of ${v.length} characters`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint')
    return v >= -(2n ** 64n) && v <= 2n ** 64n ? `${v}` : `an integer of ${v.toString(16).length * 4} bits`;
  if (typeof v === 'symbol') return 'a MARK';
  if (Array.isArray(v)) return `a sequence of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return `a ${typeof name === 'string' ? name : typeof v}`;
}

/** A count, offset, size or stride read from a file: a non-negative safe integer, or an error naming `what`. */
export function checkIndex(v: unknown, where: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new CheckpointError(where, `${what} as a non-negative integer`, describe(v));
  return v;
}

/** A shape: non-negative safe integers whose product is safe too; returns the element count. */
export function checkShape(shape: unknown, where: string): number {
  if (!Array.isArray(shape) || shape.length > 64)
    throw new CheckpointError(where, 'a shape (a list of at most 64 dims)', describe(shape));
  let n = 1;
  for (const d of shape) {
    n *= checkIndex(d, where, 'every dim of the shape');
    if (!Number.isSafeInteger(n))
      throw new CheckpointError(where, 'a shape whose element count is a safe integer', `a product above 2^53`);
  }
  return n;
}

/** Checks a view against its claimed dtype and shape: exactly elements x element size bytes. */
export function checkTensorBytes(t: CheckpointTensor, where: string): number {
  if (!isDType(t.dtype))
    throw new CheckpointError(where, `a dtype among ${Object.keys(DTYPE_BYTES).join(', ')}`, describe(t.dtype));
  const n = checkShape(t.shape, where);
  const want = n * DTYPE_BYTES[t.dtype];
  if (t.bytes.byteLength !== want)
    throw new CheckpointError(where, `${want} bytes for ${t.dtype} [${t.shape.join(', ')}]`, `${t.bytes.byteLength}`);
  return n;
}

const f16 = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
};

/**
 * The tensor's values as float32: a view when the bytes are aligned float32, otherwise a conversion into fresh,
 * aligned storage. Reads go through the view's own byteOffset (a Node Buffer is often a view into a larger pool,
 * and Buffer#slice does not copy), and the view must hold exactly elements x element size bytes.
 */
export function toFloat32(t: CheckpointTensor, where: string): Float32Array {
  const n = checkTensorBytes(t, where);
  const { bytes } = t;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (t.dtype) {
    case 'F32': {
      if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16(dv.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    default:
      throw new CheckpointError(where, 'a floating-point tensor (F32, F16, BF16, F64)', t.dtype);
  }
}

/**
 * Runs a reader and turns anything that is not already one of our errors into a CheckpointError naming the file,
 * so that a bug met by a hostile file still says which file; the fuzzers treat such a message as a failure.
 */
export function guarded<T>(source: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof MobileNetError) throw e;
    const err = e as Error;
    throw new CheckpointError(
      source,
      what,
      'data this reader could not handle',
      `unexpected ${err?.name ?? 'error'}: ${String(err?.message ?? e).slice(0, 200)}`,
    );
  }
}
