import { Global, PersistentId, Reduced, unpickle } from './pickle.js';
import {
  type Checkpoint,
  type CheckpointDType,
  type CheckpointTensor,
  CheckpointError,
  DTYPE_BYTES,
  MAX_TENSOR_BYTES,
  checkIndex,
  checkShape,
  describe,
  guarded,
} from './tensor.js';
import { readZip } from './zip.js';

const STORAGE_DTYPES: Record<string, CheckpointDType> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
};

interface StorageRef {
  readonly key: string;
  readonly dtype: CheckpointDType;
  /** Elements before this view starts (legacy view_metadata). */
  readonly elemOffset: number;
}

/** The dtype a persistent id's storage class names, or null (own keys only: no prototype names). */
function storageDType(cls: unknown): CheckpointDType | null {
  const name = cls instanceof Global ? cls.name : '';
  return Object.hasOwn(STORAGE_DTYPES, name) ? STORAGE_DTYPES[name]! : null;
}

function storageRef(pid: unknown, where: string): StorageRef {
  const t = pid as unknown[];
  const dtype = Array.isArray(t) ? storageDType(t[1]) : null;
  if (!Array.isArray(t) || t[0] !== 'storage' || !dtype || (typeof t[2] !== 'string' && typeof t[2] !== 'number')) {
    throw new CheckpointError(
      where,
      "a persistent id ('storage', <typed storage>, key, location, size)",
      describe(Array.isArray(t) ? t[0] : t),
    );
  }
  const view = t[5];
  if (view === undefined || view === null) return { key: String(t[2]), dtype, elemOffset: 0 };
  // Legacy view metadata (view_key, offset, size): a slice of the root storage t[2], which holds the bytes.
  if (!Array.isArray(view)) throw new CheckpointError(where, 'view metadata (key, offset, size)', describe(view));
  return { key: String(t[2]), dtype, elemOffset: checkIndex(view[1], where, 'the view offset') };
}

/** Strides: non-negative safe integers, one per dim (negative or NaN strides would read zeros or garbage). */
function checkStrides(stride: unknown, dims: number, where: string): number[] {
  if (!Array.isArray(stride) || stride.length !== dims)
    throw new CheckpointError(where, `${dims} strides (one per dim)`, describe(stride));
  return stride.map((s) => checkIndex(s, where, 'every stride'));
}

/**
 * A tensor whose bytes are made on first use. The strided copy (an expanded tensor with zero strides can be far
 * larger than its file) only happens for tensors the caller asks for, after it has checked keys and shapes.
 */
function lazyTensor(dtype: CheckpointDType, shape: number[], make: () => Uint8Array): CheckpointTensor {
  let bytes: Uint8Array | undefined;
  return {
    dtype,
    shape,
    get bytes() {
      return (bytes ??= make());
    },
  };
}

/** A tensor's window on its storage, in elements: where it starts, its shape and the step of each dimension. */
interface View {
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

/** Checks that a strided view stays inside its storage: every element it reaches exists. */
function checkView(data: Uint8Array, esize: number, { offset, size, stride }: View, where: string): void {
  const storageElems = Math.floor(data.length / esize);
  const empty = size.some((d) => d === 0);
  const end = empty ? offset : size.reduce((a, s, i) => a + (s - 1) * stride[i]!, offset) + 1;
  if (!Number.isSafeInteger(end) || end > storageElems) {
    throw new CheckpointError(
      where,
      `a view within its storage of ${storageElems} elements`,
      `a view reaching element ${end} (offset ${offset}, size [${size.join(', ')}], stride [${stride.join(', ')}])`,
    );
  }
}

/**
 * Copies a strided view into row-major bytes (a plain view when already contiguous). The storage must hold every
 * element the view reaches, and the result must stay under MAX_TENSOR_BYTES.
 */
function materialize(data: Uint8Array, esize: number, view: View, where: string): Uint8Array {
  checkView(data, esize, view, where);
  const { offset, size, stride } = view;
  const n = size.reduce((a, b) => a * b, 1);
  const outBytes = n * esize;
  if (outBytes > MAX_TENSOR_BYTES)
    throw new CheckpointError(
      where,
      `a tensor of at most ${MAX_TENSOR_BYTES} bytes`,
      `${outBytes} bytes for [${size.join(', ')}]`,
    );
  let contiguous = true;
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i]! > 1 && stride[i] !== expect) contiguous = false;
    expect *= size[i]!;
  }
  if (contiguous) return data.subarray(offset * esize, (offset + n) * esize);
  const out = new Uint8Array(outBytes);
  const dims = size.length;
  const idx = new Array<number>(dims).fill(0);
  let src = offset;
  for (let k = 0; k < n; k++) {
    out.set(data.subarray(src * esize, (src + 1) * esize), k * esize);
    // Odometer step: the last dim moves fastest; a dim that wraps gives back what it added to `src`.
    for (let d = dims - 1; d >= 0; d--) {
      src += stride[d]!;
      if (++idx[d]! < size[d]!) break;
      src -= stride[d]! * size[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Finds the state_dict inside what was pickled: the dict itself, or its 'state_dict' / 'model' / 'model_state' entry. */
function stateDict(root: unknown, source: string): Map<unknown, unknown> {
  if (!(root instanceof Map)) throw new CheckpointError(source, 'a pickled dict (a state_dict)', describe(root));
  for (const key of ['state_dict', 'model', 'model_state', 'state_dict_ema']) {
    const inner = root.get(key);
    if (inner instanceof Map && [...inner.values()].some((v) => v instanceof Reduced)) return inner;
  }
  return root;
}

/** The tensor a state_dict value rebuilds (unwrapping a Parameter), or null for anything else. */
function rebuilt(value: unknown): Reduced | null {
  let v = value;
  if (v instanceof Reduced && v.fn.startsWith('torch._utils._rebuild_parameter')) v = v.args[0];
  return v instanceof Reduced && v.fn.startsWith('torch._utils._rebuild_tensor') ? v : null;
}

/** A state_dict key as text: strings as they are, anything else described (a key is never printed whole). */
const keyName = (k: unknown): string =>
  typeof k === 'string' ? k : typeof k === 'number' ? String(k) : `<${describe(k)}>`;

function tensors(root: unknown, storage: (ref: StorageRef, where: string) => Uint8Array, source: string): Checkpoint {
  const out = new Map<string, CheckpointTensor>();
  for (const [key, value] of stateDict(root, source)) {
    const v = rebuilt(value);
    if (!v) continue;
    const name = keyName(key);
    if (name.length > 1000)
      throw new CheckpointError(
        `${source}: a state_dict key`,
        'a key of at most 1000 characters',
        `${name.length} characters`,
      );
    const where = `${source}: tensor '${name}'`;
    const [pid, offset, size, stride] = v.args;
    if (!(pid instanceof PersistentId)) throw new CheckpointError(where, 'a storage reference', describe(pid));
    const ref = storageRef(pid.pid, where);
    const start = ref.elemOffset + checkIndex(offset, where, 'the storage offset');
    checkShape(size, where);
    const shape = [...(size as number[])];
    const strides = checkStrides(stride, shape.length, where);
    const data = storage(ref, where);
    const esize = DTYPE_BYTES[ref.dtype];
    // Bounds are checked now; the copy is made on use.
    const view = { offset: start, size: shape, stride: strides };
    checkView(data, esize, view, where);
    out.set(
      name,
      lazyTensor(ref.dtype, shape, () => materialize(data, esize, view, where)),
    );
  }
  if (out.size === 0) throw new CheckpointError(source, 'a state_dict with tensors', 'no tensors');
  return out;
}

function readZipCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const entries = readZip(bytes, source);
  const pkl = [...entries.keys()].find((k) => k.endsWith('data.pkl') && k.split('/').length === 2);
  if (!pkl)
    throw new CheckpointError(
      source,
      "a PyTorch zip checkpoint with '<archive>/data.pkl'",
      `entries ${[...entries.keys()].slice(0, 5).join(', ') || '(none)'}`,
    );
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(order).trim() !== 'little')
    throw new CheckpointError(source, 'little-endian storages', 'big-endian');
  const { value } = unpickle(entries.get(pkl)!, `${source}: ${pkl}`);
  return tensors(
    value,
    (ref, where) => {
      const data = entries.get(`${prefix}data/${ref.key}`);
      if (!data) throw new CheckpointError(where, `storage entry '${prefix}data/${ref.key.slice(0, 100)}'`, 'missing');
      return data;
    },
    source,
  );
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
  if (magic !== LEGACY_MAGIC)
    throw new CheckpointError(
      source,
      'a PyTorch checkpoint (zip, or the legacy pickle format)',
      'a pickle without the PyTorch magic number',
    );
  const version = next();
  if (version !== 1001) throw new CheckpointError(source, 'legacy protocol version 1001', describe(version));
  next();
  const root = next();
  const keys = next();
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' && typeof k !== 'number'))
    throw new CheckpointError(source, 'a list of storage keys after the object', describe(keys));
  // Storage dtypes come from the pickled object; sizes and bytes follow in the order of `keys`.
  const dtypes = storageDTypes(root, source);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storages = new Map<string, Uint8Array>();
  for (const key of keys.map(String)) {
    const where = `${source}: storage '${key.slice(0, 100)}'`;
    const dtype = dtypes.get(key);
    if (!dtype)
      throw new CheckpointError(
        where,
        'a storage used by a tensor of the checkpoint',
        'a storage no tensor uses (its element size is unknown)',
      );
    if (p + 8 > bytes.length) throw new CheckpointError(where, 'an element count', 'end of file (truncated)');
    const n = checkIndex(Number(dv.getBigInt64(p, true)), where, 'an element count');
    const size = n * DTYPE_BYTES[dtype];
    if (size > bytes.length - p - 8)
      throw new CheckpointError(where, `${size} bytes`, `${bytes.length - p - 8} (truncated file)`);
    storages.set(key, bytes.subarray(p + 8, p + 8 + size));
    p += 8 + size;
  }
  return tensors(
    root,
    (ref, where) => {
      const data = storages.get(ref.key);
      if (!data)
        throw new CheckpointError(where, `storage '${ref.key.slice(0, 100)}' among the file's storages`, 'missing');
      return data;
    },
    source,
  );
}

/** Every storage the pickled object references, with its dtype: one walk, each shared object visited once. */
function storageDTypes(root: unknown, source: string): Map<string, CheckpointDType> {
  const out = new Map<string, CheckpointDType>();
  const seen = new Set<unknown>();
  const todo: unknown[] = [root];
  while (todo.length) {
    const v = todo.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof PersistentId) {
      const ref = storageRef(v.pid, source);
      out.set(ref.key, ref.dtype);
    } else if (v instanceof Map) {
      for (const [k, x] of v) todo.push(k, x);
    } else if (Array.isArray(v)) {
      for (const x of v) todo.push(x);
    } else if (v instanceof Reduced) {
      todo.push(v.args);
    }
  }
  return out;
}

/** True when the bytes start like a PyTorch checkpoint: a zip archive, or a pickle (protocol 2+). */
export function looksLikePth(bytes: Uint8Array): boolean {
  return (
    (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) ||
    (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5)
  );
}

/**
 * Reads a PyTorch checkpoint (.pth/.pt/.bin): the zip format (torch >= 1.6) or the legacy one. Tensors that need a
 * strided copy are copied on first use of their `bytes`, so a caller checks keys and shapes before paying for it.
 */
export function readPth(bytes: Uint8Array, source: string): Checkpoint {
  return guarded(source, 'a PyTorch checkpoint', () => readPthUnguarded(bytes, source));
}

function readPthUnguarded(bytes: Uint8Array, source: string): Checkpoint {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)
    return readZipCheckpoint(bytes, source);
  if (bytes.length >= 2 && bytes[0] === 0x80) return readLegacyCheckpoint(bytes, source);
  throw new CheckpointError(
    source,
    'a PyTorch checkpoint (a zip archive, or a pickle)',
    `${bytes.length} bytes starting ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`,
  );
}
