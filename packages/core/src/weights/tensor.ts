import { MobileNetError } from '../ir/errors.js';

/** Element types found in checkpoints, by safetensors' names. */
export type CheckpointDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<CheckpointDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

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

const f16 = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
};

/** The tensor's values as float32 (a view when already aligned float32; a conversion otherwise). */
export function toFloat32(t: CheckpointTensor, where: string): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const { bytes } = t;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (t.dtype) {
    case 'F32':
      if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      return new Float32Array(bytes.slice().buffer, 0, n);
    case 'F16':
      return Float32Array.from({ length: n }, (_, i) => f16(dv.getUint16(2 * i, true)));
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'F64':
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    default:
      throw new CheckpointError(where, 'a floating-point tensor (F32, F16, BF16, F64)', t.dtype);
  }
}
