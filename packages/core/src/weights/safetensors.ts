import { type Checkpoint, type CheckpointDType, type CheckpointTensor, CheckpointError, DTYPE_BYTES } from './tensor.js';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Reads a safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the data. Every claim of the header is checked against the file; tensors are views
 * into `bytes` (no copy).
 */
export function readSafetensors(bytes: Uint8Array, source: string): { tensors: Checkpoint; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new CheckpointError(source, 'a safetensors file (at least an 8-byte header length)', `${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.length - 8) throw new CheckpointError(`${source}: header`, `a header length of at most ${bytes.length - 8} (the file's size)`, `${n}`, 'truncated file or not safetensors');
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new CheckpointError(`${source}: header`, 'a UTF-8 JSON object', `${n} bytes that do not parse`, (e as Error).message);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new CheckpointError(`${source}: header`, 'a JSON object', typeof header);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, CheckpointTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as HeaderEntry;
    const where = `${source}: tensor '${name}'`;
    const dtype = e.dtype as CheckpointDType;
    if (!(dtype in DTYPE_BYTES)) throw new CheckpointError(where, `a dtype among ${Object.keys(DTYPE_BYTES).join(', ')}`, JSON.stringify(e.dtype));
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new CheckpointError(where, 'a shape of non-negative integers', JSON.stringify(e.shape));
    const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
      throw new CheckpointError(where, `data_offsets within the ${dataLength} data bytes`, JSON.stringify(e.data_offsets));
    }
    const size = e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== size) throw new CheckpointError(where, `${size} bytes for ${dtype} [${e.shape.join(', ')}]`, `${end - begin} bytes (data_offsets ${begin}..${end})`);
    ranges.push([begin, end, name]);
    tensors.set(name, { dtype, shape: e.shape, bytes: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) {
      throw new CheckpointError(`${source}: tensor '${ranges[i]![2]}'`, `data not overlapping tensor '${ranges[i - 1]![2]}'`, `offsets ${ranges[i]![0]}..${ranges[i]![1]}`);
    }
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  return { tensors, metadata };
}

/** Writes tensors as safetensors (used to make test files; keys sorted, data 8-byte aligned like the reference). */
export function writeSafetensors(tensors: Record<string, CheckpointTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    out.set(tensors[name]!.bytes, at);
    at += tensors[name]!.bytes.length;
  }
  return out;
}
