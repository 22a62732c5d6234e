/**
 * Builds pickles and PyTorch checkpoints op by op, for tests and fuzzers: hostile shapes that torch.save would
 * never write (negative offsets, NaN strides, 256 KB integers, memo bombs) need a hand-made file.
 */
const enc = new TextEncoder();

export type Op = Uint8Array;
const op = (...parts: (number | Uint8Array)[]): Op =>
  pickle(...parts.map((b) => (typeof b === 'number' ? Uint8Array.of(b) : b)));
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

export const P = {
  proto: (v = 2) => op(0x80, v),
  stop: () => op(0x2e),
  mark: () => op(0x28),
  none: () => op(0x4e),
  false: () => op(0x89),
  int: (n: number) => op(0x4a, new Uint8Array(new Int32Array([n]).buffer)),
  float: (x: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return op(0x47, b);
  },
  long1: (bytes: Uint8Array) => op(0x8a, bytes.length, bytes),
  long4: (bytes: Uint8Array) => op(0x8b, u32(bytes.length), bytes),
  str: (s: string) => {
    const b = enc.encode(s);
    return op(0x58, u32(b.length), b);
  },
  global: (mod: string, name: string) => op(0x63, enc.encode(`${mod}\n${name}\n`)),
  tuple: () => op(0x74),
  emptyTuple: () => op(0x29),
  emptyList: () => op(0x5d),
  emptyDict: () => op(0x7d),
  appends: () => op(0x65),
  append: () => op(0x61),
  setitem: () => op(0x73),
  setitems: () => op(0x75),
  dup: () => op(0x32),
  pop: () => op(0x30),
  put: (i: number) => op(0x72, u32(i)),
  get: (i: number) => op(0x6a, u32(i)),
  reduce: () => op(0x52),
  persid: () => op(0x51),
};

/** Concatenates ops (or an array of them: a spread of 100k arguments would overflow the stack). */
export function pickle(...ops: (Op | Op[])[]): Uint8Array {
  ops = ops.flat();
  const n = (ops as Op[]).reduce((a, o) => a + o.length, 0);
  const out = new Uint8Array(n);
  let p = 0;
  for (const o of ops as Op[]) out.set(o, p), (p += o.length);
  return out;
}

/** A tensor entry as torch.save pickles it: _rebuild_tensor_v2(persistent storage id, offset, size, stride, ...). */
export interface TensorSpec {
  readonly storage: string;
  readonly storageType?: string;
  readonly numel: unknown;
  readonly offset: unknown;
  readonly size: Op[];
  readonly stride: Op[];
}

const seq = (items: Op[]) => [P.mark(), ...items, P.tuple()];
const value = (v: unknown): Op =>
  typeof v === 'number' ? (Number.isInteger(v) ? P.int(v) : P.float(v)) : typeof v === 'string' ? P.str(v) : P.none();

/** The ops that push one tensor of a state_dict. */
export function tensorOps(t: TensorSpec): Op[] {
  return [
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark(),
    ...seq([
      P.str('storage'),
      P.global('torch', t.storageType ?? 'FloatStorage'),
      P.str(t.storage),
      P.str('cpu'),
      value(t.numel),
    ]),
    P.persid(),
    value(t.offset),
    ...seq(t.size),
    ...seq(t.stride),
    P.false(),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.tuple(),
    P.reduce(),
  ];
}

/** A state_dict pickle: {key: tensor, ...}. */
export function stateDictPickle(tensors: Record<string, TensorSpec>): Uint8Array {
  const items = Object.entries(tensors).flatMap(([k, t]) => [P.str(k), ...tensorOps(t)]);
  return pickle(P.proto(2), P.emptyDict(), P.mark(), ...items, P.setitems(), P.stop());
}

/** Little-endian float32 bytes. */
export const f32bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
