import { PersistentId, Reduced, unpickle } from './pickle.js';
import { type Checkpoint, type CheckpointDType, type CheckpointTensor, CheckpointError, DTYPE_BYTES } from './tensor.js';
import { readZip } from './zip.js';

const STORAGE_DTYPES: Record<string, CheckpointDType> = {
  'torch.FloatStorage': 'F32', 'torch.HalfStorage': 'F16', 'torch.BFloat16Storage': 'BF16', 'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64', 'torch.IntStorage': 'I32', 'torch.ShortStorage': 'I16', 'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8', 'torch.BoolStorage': 'BOOL',
};

interface StorageRef {
  readonly key: string;
  readonly dtype: CheckpointDType;
  /** Elements before this view starts (legacy view_metadata). */
  readonly elemOffset: number;
}

function storageRef(pid: unknown, where: string): StorageRef {
  const t = pid as unknown[];
  const cls = (t?.[1] as { name?: string } | undefined)?.name ?? '';
  if (!Array.isArray(t) || t[0] !== 'storage' || !(cls in STORAGE_DTYPES)) {
    throw new CheckpointError(where, "a persistent id ('storage', <typed storage>, key, location, size)", JSON.stringify(t?.[0] ?? t));
  }
  const view = t[5] as [string, number, number] | null | undefined;
  return { key: view ? String(view[0]) : String(t[2]), dtype: STORAGE_DTYPES[cls]!, elemOffset: view ? Number(view[1]) : 0 };
}

/** Copies a strided view into row-major bytes (a plain view when already contiguous). */
function materialize(data: Uint8Array, esize: number, offset: number, size: number[], stride: number[], where: string): Uint8Array {
  const n = size.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i]! > 1 && stride[i] !== expect) contiguous = false;
    expect *= size[i]!;
  }
  const last = offset + (n === 0 ? 0 : size.reduce((a, s, i) => a + (s - 1) * stride[i]!, 0) + 1);
  if (last * esize > data.length) throw new CheckpointError(where, `storage of at least ${last} elements`, `${data.length / esize}`);
  if (contiguous) return data.subarray(offset * esize, (offset + n) * esize);
  const out = new Uint8Array(n * esize);
  const idx = new Array<number>(size.length).fill(0);
  for (let k = 0; k < n; k++) {
    const src = offset + idx.reduce((a, v, i) => a + v * stride[i]!, 0);
    out.set(data.subarray(src * esize, (src + 1) * esize), k * esize);
    for (let d = size.length - 1; d >= 0 && ++idx[d]! === size[d]; d--) idx[d] = 0;
  }
  return out;
}

/** Finds the state_dict inside what was pickled: the dict itself, or its 'state_dict' / 'model' / 'model_state' entry. */
function stateDict(root: unknown, source: string): Map<unknown, unknown> {
  if (!(root instanceof Map)) throw new CheckpointError(source, 'a pickled dict (a state_dict)', root === null ? 'None' : typeof root);
  for (const key of ['state_dict', 'model', 'model_state', 'state_dict_ema']) {
    const inner = root.get(key);
    if (inner instanceof Map && [...inner.values()].some((v) => v instanceof Reduced)) return inner;
  }
  return root;
}

function tensors(root: unknown, storage: (ref: StorageRef) => Uint8Array, source: string): Checkpoint {
  const out = new Map<string, CheckpointTensor>();
  for (const [name, value] of stateDict(root, source)) {
    let v = value;
    if (v instanceof Reduced && v.fn.startsWith('torch._utils._rebuild_parameter')) v = v.args[0];
    if (!(v instanceof Reduced) || !v.fn.startsWith('torch._utils._rebuild_tensor')) continue;
    const where = `${source}: tensor '${String(name)}'`;
    const [pid, offset, size, stride] = v.args as [PersistentId, number, number[], number[]];
    if (!(pid instanceof PersistentId)) throw new CheckpointError(where, 'a storage reference', typeof pid);
    const ref = storageRef(pid.pid, where);
    const esize = DTYPE_BYTES[ref.dtype];
    out.set(String(name), { dtype: ref.dtype, shape: [...size], bytes: materialize(storage(ref), esize, ref.elemOffset + offset, [...size], [...stride], where) });
  }
  if (out.size === 0) throw new CheckpointError(source, 'a state_dict with tensors', 'no tensors');
  return out;
}

function readZipCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const entries = readZip(bytes, source);
  const pkl = [...entries.keys()].find((k) => k.endsWith('data.pkl') && k.split('/').length === 2);
  if (!pkl) throw new CheckpointError(source, "a PyTorch zip checkpoint with '<archive>/data.pkl'", `entries ${[...entries.keys()].slice(0, 5).join(', ') || '(none)'}`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order).trim() !== 'little') throw new CheckpointError(source, 'little-endian storages', 'big-endian');
  const { value } = unpickle(entries.get(pkl)!, `${source}: ${pkl}`);
  return tensors(value, (ref) => {
    const data = entries.get(`${prefix}data/${ref.key}`);
    if (!data) throw new CheckpointError(source, `storage entry '${prefix}data/${ref.key}'`, 'missing');
    return data;
  }, source);
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** The pre-1.6 format: pickled magic, version, sys_info, the object, the storage keys, then each storage's bytes. */
function readLegacyCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  let p = 0;
  const next = () => {
    const r = unpickle(bytes, source, p);
    p = r.end;
    return r.value;
  };
  const magic = next();
  if (magic !== LEGACY_MAGIC) throw new CheckpointError(source, 'a PyTorch checkpoint (zip, or the legacy pickle format)', 'a pickle without the PyTorch magic number');
  if (next() !== 1001) throw new CheckpointError(source, 'legacy protocol version 1001', 'another version');
  next();
  const root = next();
  const keys = next() as string[];
  // Storage dtypes come from the pickled object; sizes and bytes follow in the order of `keys`.
  const dtypes = new Map<string, CheckpointDType>();
  for (const value of stateDict(root, source).values()) {
    const v = value instanceof Reduced && value.fn.startsWith('torch._utils._rebuild_parameter') ? value.args[0] : value;
    if (v instanceof Reduced && v.args[0] instanceof PersistentId) {
      const ref = storageRef(v.args[0].pid, source);
      dtypes.set(ref.key, ref.dtype);
    }
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storages = new Map<string, Uint8Array>();
  for (const key of keys.map(String)) {
    if (p + 8 > bytes.length) throw new CheckpointError(source, `storage '${key}'`, 'end of file (truncated)');
    const n = Number(dv.getBigInt64(p, true));
    const size = n * DTYPE_BYTES[dtypes.get(key) ?? 'U8'];
    if (p + 8 + size > bytes.length) throw new CheckpointError(source, `${size} bytes of storage '${key}'`, `${bytes.length - p - 8} (truncated file)`);
    storages.set(key, bytes.subarray(p + 8, p + 8 + size));
    p += 8 + size;
  }
  return tensors(root, (ref) => storages.get(ref.key) ?? new Uint8Array(0), source);
}

/** Reads a PyTorch checkpoint (.pth/.pt/.bin): the zip format (torch >= 1.6) or the legacy one. */
export function readPth(bytes: Uint8Array, source: string): Checkpoint {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return readZipCheckpoint(bytes, source);
  if (bytes.length >= 2 && bytes[0] === 0x80) return readLegacyCheckpoint(bytes, source);
  throw new CheckpointError(source, 'a PyTorch checkpoint (a zip archive, or a pickle)', `${bytes.length} bytes starting ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`);
}
