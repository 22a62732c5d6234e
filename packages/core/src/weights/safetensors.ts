import {
  type Checkpoint,
  type CheckpointTensor,
  CheckpointError,
  DTYPE_BYTES,
  checkShape,
  describe,
  guarded,
  isDType,
} from './tensor.js';

/** The reference implementation's limit on the JSON header (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** True when the bytes start like safetensors: a header length that fits the file, then '{' (or padding). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  return n <= BigInt(bytes.length - 8) && (bytes[8] === 0x7b || bytes[8] === 0x20);
}

/**
 * Reads a safetensors file: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the data. Every claim of the header is checked against the file; tensors are views
 * into `bytes` (no copy; toFloat32 copies what is not aligned).
 */
export function readSafetensors(
  bytes: Uint8Array,
  source: string,
): { tensors: Checkpoint; metadata: Record<string, string> } {
  return guarded(source, 'a safetensors file', () => read(bytes, source));
}

function parseHeader(bytes: Uint8Array, source: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8)
    throw new CheckpointError(source, 'a safetensors file (at least an 8-byte header length)', `${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const big = dv.getBigUint64(0, true);
  if (big > BigInt(bytes.length - 8))
    throw new CheckpointError(
      `${source}: header`,
      `a header length of at most ${bytes.length - 8} (the file's size)`,
      `${big}`,
      'truncated file or not safetensors',
    );
  const n = Number(big);
  if (n > MAX_HEADER_BYTES)
    throw new CheckpointError(
      `${source}: header`,
      `a header of at most ${MAX_HEADER_BYTES} bytes (the safetensors limit)`,
      `${n}`,
    );
  // The format requires the JSON to start with '{' (it may be padded with spaces at the end, not the start).
  if (bytes[8] !== 0x7b)
    throw new CheckpointError(
      `${source}: header`,
      "a JSON object starting with '{' right after the 8-byte length (safetensors format)",
      n === 0 ? 'an empty header' : `a header starting with byte 0x${bytes[8]!.toString(16).padStart(2, '0')}`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new CheckpointError(
      `${source}: header`,
      'a UTF-8 JSON object',
      `${n} bytes that do not parse`,
      String((e as Error).message).slice(0, 200),
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new CheckpointError(`${source}: header`, 'a JSON object', describe(header));
  return { header: header as Record<string, unknown>, dataStart: 8 + n };
}

function read(bytes: Uint8Array, source: string): { tensors: Checkpoint; metadata: Record<string, string> } {
  const { header, dataStart } = parseHeader(bytes, source);
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, CheckpointTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const where = `${source}: tensor '${name.slice(0, 1000)}'`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new CheckpointError(where, 'an object with dtype, shape and data_offsets', describe(entry));
    const e = entry as Record<string, unknown>;
    const dtype = e.dtype;
    if (!isDType(dtype))
      throw new CheckpointError(where, `a dtype among ${Object.keys(DTYPE_BYTES).join(', ')}`, describe(dtype));
    const count = checkShape(e.shape, where);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2)
      throw new CheckpointError(where, 'data_offsets [begin, end]', describe(offsets));
    const [begin, end] = offsets as unknown[];
    if (
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      (begin as number) < 0 ||
      (end as number) < (begin as number) ||
      (end as number) > dataLength
    ) {
      throw new CheckpointError(
        where,
        `data_offsets within the ${dataLength} data bytes`,
        `[${describe(begin)},${describe(end)}]`,
      );
    }
    const [b, z] = [begin as number, end as number];
    const shape = e.shape as number[];
    const size = count * DTYPE_BYTES[dtype];
    if (z - b !== size)
      throw new CheckpointError(
        where,
        `${size} bytes for ${dtype} [${shape.join(', ')}]`,
        `${z - b} bytes (data_offsets ${b}..${z})`,
      );
    ranges.push([b, z, name]);
    tensors.set(name, { dtype, shape: [...shape], bytes: bytes.subarray(dataStart + b, dataStart + z) });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) {
      throw new CheckpointError(
        `${source}: tensor '${ranges[i]![2].slice(0, 1000)}'`,
        `data not overlapping tensor '${ranges[i - 1]![2].slice(0, 1000)}'`,
        `offsets ${ranges[i]![0]}..${ranges[i]![1]}`,
      );
    }
  }
  return { tensors, metadata: readMetadata(header.__metadata__, source) };
}

/** `__metadata__`: an optional object of string values. */
function readMetadata(meta: unknown, source: string): Record<string, string> {
  if (meta === undefined) return {};
  const where = `${source}: header '__metadata__'`;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    throw new CheckpointError(where, 'an object of strings', describe(meta));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string')
      throw new CheckpointError(`${where} key '${k.slice(0, 200)}'`, 'a string value', describe(v));
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Writes tensors as safetensors (used to make test files; keys sorted, data 8-byte aligned like the reference). */
export function writeSafetensors(
  tensors: Record<string, CheckpointTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
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
