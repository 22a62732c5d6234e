import { CheckpointError, describe, guarded } from './tensor.js';

/**
 * A restricted unpickler that understands exactly what a PyTorch state_dict needs (dicts, lists, tuples, numbers,
 * strings, OrderedDict, tensor rebuilds, typed storages) and refuses every other global by name, like
 * torch.load(weights_only=True). It only ever builds data: nothing named in the file is called or imported.
 */
export class Global {
  constructor(readonly name: string) {}
}
export class Reduced {
  constructor(
    readonly fn: string,
    readonly args: readonly unknown[],
  ) {}
}
export class PersistentId {
  constructor(readonly pid: unknown) {}
}

export const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch.FloatStorage',
  'torch.HalfStorage',
  'torch.BFloat16Storage',
  'torch.DoubleStorage',
  'torch.LongStorage',
  'torch.IntStorage',
  'torch.ShortStorage',
  'torch.CharStorage',
  'torch.ByteStorage',
  'torch.BoolStorage',
]);

const MARK = Symbol('mark');

/** The widest integer a state_dict needs is the legacy magic number (80 bits); 64 bytes leave room and no more. */
const MAX_LONG_BYTES = 64;

/** A little-endian two's-complement integer (pickle LONG1/LONG4), built from hex in one step, not byte by byte. */
function long(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Parses one pickle starting at `offset`; returns the value and where the pickle ended. Time and memory are linear
 * in the pickle's length: no opcode copies a shared value, and errors describe values, never print them.
 */
export function unpickle(bytes: Uint8Array, source: string, offset = 0): { value: unknown; end: number } {
  return guarded(source, 'a pickle', () => parse(bytes, source, offset));
}

/** The unpickler's state (the bytes and a cursor, the stack, the memo) and the reads every opcode shares. */
class Machine {
  readonly dv: DataView;
  readonly stack: unknown[] = [];
  readonly memo = new Map<number, unknown>();

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
    public p: number,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(expected: string, received: string): never {
    throw new CheckpointError(`${this.source}: pickle at byte ${this.p}`, expected, received);
  }
  need(n: number): void {
    if (this.p + n > this.bytes.length) this.fail(`${n} more bytes`, `end of data (truncated file)`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.p++]!;
  }
  /** Moves the cursor past `n` bytes that must be there; returns where they start. */
  private skip(n: number): number {
    this.need(n);
    this.p += n;
    return this.p - n;
  }
  u16(): number {
    return this.dv.getUint16(this.skip(2), true);
  }
  u32(): number {
    return this.dv.getUint32(this.skip(4), true);
  }
  i32(): number {
    return this.dv.getInt32(this.skip(4), true);
  }
  f64(): number {
    return this.dv.getFloat64(this.skip(8), false);
  }
  u64(): number {
    return Number(this.dv.getBigUint64(this.skip(8), true));
  }
  raw(n: number): Uint8Array {
    const start = this.skip(n);
    return this.bytes.subarray(start, this.p);
  }
  text(n: number): string {
    return new TextDecoder().decode(this.raw(n));
  }
  /** A newline-terminated argument (the text protocol's opcodes). */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.p);
    if (end < 0) this.fail('a newline-terminated argument', 'end of data');
    const s = new TextDecoder().decode(this.bytes.subarray(this.p, end));
    this.p = end + 1;
    return s;
  }
  decimal(s: string): number {
    const v = Number(s.trim().replace(/L$/, ''));
    return Number.isSafeInteger(v) ? v : this.fail('a decimal integer argument', `a line of ${s.length} characters`);
  }
  bigLong(n: number): number | bigint {
    return n <= MAX_LONG_BYTES
      ? long(this.raw(n))
      : this.fail(`an integer of at most ${MAX_LONG_BYTES} bytes (state_dicts need no more)`, `${n} bytes`);
  }

  push(v: unknown): void {
    this.stack.push(v);
  }
  pop(): unknown {
    return this.stack.length ? this.stack.pop() : this.fail('a value on the stack', 'an empty stack');
  }
  top(): unknown {
    return this.stack.length ? this.stack[this.stack.length - 1] : this.fail('a value on the stack', 'an empty stack');
  }
  /** The items above the topmost MARK, which goes too. */
  popMark(): unknown[] {
    const i = this.stack.lastIndexOf(MARK);
    if (i < 0) this.fail('a MARK on the stack', 'none');
    return this.stack.splice(i).slice(1);
  }
  list(): unknown[] {
    const t = this.top();
    return Array.isArray(t) ? t : this.fail('a list to append to', describe(t));
  }
  memoGet(i: number): unknown {
    return this.memo.has(i) ? this.memo.get(i) : this.fail(`memo entry ${i}`, 'none was stored');
  }
  setItems(target: unknown, kv: unknown[]): void {
    if (!(target instanceof Map)) this.fail('a dict to set items on', typeof target);
    if (kv.length % 2) this.fail('key-value pairs', `${kv.length} items`);
    for (let i = 0; i + 1 < kv.length; i += 2) (target as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  }
  /** A global by name: only the allowed ones, as data; nothing is imported. */
  global(name: string): Global {
    if (!ALLOWED_GLOBALS.has(name)) {
      if (name.length > 200) this.fail('a global name of at most 200 characters', `${name.length} characters`);
      throw new CheckpointError(
        `${this.source}: pickle global '${name}'`,
        `only state_dict contents (${[...ALLOWED_GLOBALS].slice(0, 5).join(', ')}, typed storages)`,
        `'${name}', which is refused: a checkpoint must not run code`,
      );
    }
    return new Global(name);
  }
  /** REDUCE and NEWOBJ: an OrderedDict becomes a Map; any other allowed global a `Reduced` record, never a call. */
  call(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof Global) || !Array.isArray(args))
      return this.fail('an allowed global called with a tuple', `${describe(fn)} called with ${describe(args)}`);
    return fn.name === 'collections.OrderedDict' ? new Map() : new Reduced(fn.name, args);
  }
}

/** One opcode's effect on the machine. */
type Handler = (m: Machine) => void;

/** Framing and stack shuffling: PROTO, FRAME, MARK, POP, POP_MARK, DUP. */
const FRAMING: Record<number, Handler> = {
  128: (m) => m.u8(),
  149: (m) => m.raw(8),
  40: (m) => m.push(MARK),
  48: (m) => m.pop(),
  49: (m) => m.popMark(),
  50: (m) => m.push(m.top()),
};

/** None, booleans and numbers: NONE, NEWTRUE, NEWFALSE, BININT(1, 2), LONG1, LONG4, INT, LONG, BINFLOAT. */
const SCALARS: Record<number, Handler> = {
  78: (m) => m.push(null),
  136: (m) => m.push(true),
  137: (m) => m.push(false),
  74: (m) => m.push(m.i32()),
  75: (m) => m.push(m.u8()),
  77: (m) => m.push(m.u16()),
  138: (m) => m.push(m.bigLong(m.u8())),
  139: (m) => m.push(m.bigLong(m.u32())),
  73: (m) => {
    const s = m.line();
    m.push(s === '01' ? true : s === '00' ? false : m.decimal(s));
  },
  76: (m) => m.push(m.decimal(m.line())),
  71: (m) => m.push(m.f64()),
};

/** Strings and bytes: BINUNICODE(8), SHORT_BINUNICODE, BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES. */
const STRINGS: Record<number, Handler> = {
  88: (m) => m.push(m.text(m.u32())),
  140: (m) => m.push(m.text(m.u8())),
  141: (m) => {
    const n = m.u64();
    m.need(n);
    m.push(m.text(n));
  },
  84: (m) => m.push(m.text(m.u32())),
  85: (m) => m.push(m.text(m.u8())),
  66: (m) => m.push(m.raw(m.u32())),
  67: (m) => m.push(m.raw(m.u8())),
};

/** Tuples, lists and dicts: EMPTY_TUPLE, TUPLE(1-3), EMPTY_LIST, LIST, APPEND(S), EMPTY_DICT, DICT, SETITEM(S). */
const CONTAINERS: Record<number, Handler> = {
  41: (m) => m.push([]),
  116: (m) => m.push(m.popMark()),
  133: (m) => m.push([m.pop()]),
  134: (m) => {
    const b = m.pop();
    m.push([m.pop(), b]);
  },
  135: (m) => {
    const c = m.pop();
    const b = m.pop();
    m.push([m.pop(), b, c]);
  },
  93: (m) => m.push([]),
  108: (m) => m.push(m.popMark()),
  97: (m) => {
    const v = m.pop();
    m.list().push(v);
  },
  101: (m) => {
    const vs = m.popMark();
    const l = m.list();
    for (const v of vs) l.push(v);
  },
  125: (m) => m.push(new Map()),
  100: (m) => {
    const d = new Map();
    m.setItems(d, m.popMark());
    m.push(d);
  },
  115: (m) => {
    const v = m.pop();
    const k = m.pop();
    m.setItems(m.top(), [k, v]);
  },
  117: (m) => {
    const kv = m.popMark();
    m.setItems(m.top(), kv);
  },
};

/** Globals, calls and storages: GLOBAL, STACK_GLOBAL, REDUCE, BUILD, NEWOBJ, BINPERSID, PERSID. */
const OBJECTS: Record<number, Handler> = {
  99: (m) => {
    const mod = m.line();
    m.push(m.global(`${mod}.${m.line()}`));
  },
  147: (m) => {
    const name = m.pop();
    const mod = m.pop();
    if (typeof name !== 'string' || typeof mod !== 'string')
      m.fail('a module and a name as strings', `${describe(mod)} and ${describe(name)}`);
    m.push(m.global(`${mod}.${name}`));
  },
  82: (m) => {
    const args = m.pop();
    m.push(m.call(m.pop(), args));
  },
  // BUILD: the state of an OrderedDict (_metadata) or a tensor; not needed.
  98: (m) => m.pop(),
  129: (m) => {
    const args = m.pop();
    m.push(m.call(m.pop(), args));
  },
  81: (m) => m.push(new PersistentId(m.pop())),
  80: (m) => m.push(new PersistentId(m.line())),
};

/** The memo: BINPUT, LONG_BINPUT, PUT, MEMOIZE, BINGET, LONG_BINGET, GET. */
const MEMO: Record<number, Handler> = {
  113: (m) => m.memo.set(m.u8(), m.top()),
  114: (m) => m.memo.set(m.u32(), m.top()),
  112: (m) => m.memo.set(m.decimal(m.line()), m.top()),
  148: (m) => m.memo.set(m.memo.size, m.top()),
  104: (m) => m.push(m.memoGet(m.u8())),
  106: (m) => m.push(m.memoGet(m.u32())),
  103: (m) => m.push(m.memoGet(m.decimal(m.line()))),
};

/** Every opcode a state_dict uses, by byte; any other is refused. */
const OPCODES: readonly (Handler | undefined)[] = (() => {
  const table: (Handler | undefined)[] = new Array(256);
  for (const group of [FRAMING, SCALARS, STRINGS, CONTAINERS, OBJECTS, MEMO])
    for (const [op, handler] of Object.entries(group)) table[Number(op)] = handler;
  return table;
})();

const STOP = 0x2e;

function parse(bytes: Uint8Array, source: string, offset: number): { value: unknown; end: number } {
  const m = new Machine(bytes, source, offset);
  for (;;) {
    const op = m.u8();
    if (op === STOP) return { value: m.pop(), end: m.p };
    const handler =
      OPCODES[op] ??
      m.fail('a pickle opcode used by state_dicts', `opcode 0x${op.toString(16).padStart(2, '0')}, refused`);
    handler(m);
  }
}
