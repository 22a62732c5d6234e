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
export const MAX_LONG_BYTES = 64;

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

function parse(bytes: Uint8Array, source: string, offset: number): { value: unknown; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = offset;
  const fail = (expected: string, received: string): never => {
    throw new CheckpointError(`${source}: pickle at byte ${p}`, expected, received);
  };
  const need = (n: number) =>
    p + n <= bytes.length ? undefined : fail(`${n} more bytes`, `end of data (truncated file)`);
  const u8 = () => (need(1), bytes[p++]!);
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true));
  const raw = (n: number) => (need(n), (p += n), bytes.subarray(p - n, p));
  const text = (n: number) => new TextDecoder().decode(raw(n));
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail('a newline-terminated argument', 'end of data');
    const s = new TextDecoder().decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => (stack.length ? stack.pop() : fail('a value on the stack', 'an empty stack'));
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('a MARK on the stack', 'none');
    const items = stack.splice(i);
    return items.slice(1);
  };
  const top = () => (stack.length ? stack[stack.length - 1] : fail('a value on the stack', 'an empty stack'));
  const list = (): unknown[] => {
    const t = top();
    return Array.isArray(t) ? t : fail('a list to append to', describe(t));
  };
  const memoGet = (i: number) => (memo.has(i) ? memo.get(i) : fail(`memo entry ${i}`, 'none was stored'));
  const bigLong = (n: number) =>
    n <= MAX_LONG_BYTES
      ? long(raw(n))
      : fail(`an integer of at most ${MAX_LONG_BYTES} bytes (state_dicts need no more)`, `${n} bytes`);
  const decimal = (s: string) => {
    const v = Number(s.trim().replace(/L$/, ''));
    return Number.isSafeInteger(v) ? v : fail('a decimal integer argument', `a line of ${s.length} characters`);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global) || !Array.isArray(args))
      return fail('an allowed global called with a tuple', `${describe(fn)} called with ${describe(args)}`);
    return fn.name === 'collections.OrderedDict' ? new Map() : new Reduced(fn.name, args);
  };
  const global = (name: string) => {
    if (!ALLOWED_GLOBALS.has(name)) {
      if (name.length > 200) fail('a global name of at most 200 characters', `${name.length} characters`);
      throw new CheckpointError(
        `${source}: pickle global '${name}'`,
        `only state_dict contents (${[...ALLOWED_GLOBALS].slice(0, 5).join(', ')}, typed storages)`,
        `'${name}', which is refused: a checkpoint must not run code`,
      );
    }
    return new Global(name);
  };
  const setItems = (target: unknown, kv: unknown[]) => {
    if (!(target instanceof Map)) fail('a dict to set items on', typeof target);
    if (kv.length % 2) fail('key-value pairs', `${kv.length} items`);
    for (let i = 0; i + 1 < kv.length; i += 2) (target as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        raw(8);
        break; // FRAME
      case 0x2e:
        return { value: pop(), end: p }; // STOP
      case 0x28:
        stack.push(MARK);
        break;
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        need(4);
        stack.push(dv.getInt32(p, true));
        p += 4;
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(bigLong(u8()));
        break; // LONG1
      case 0x8b:
        stack.push(bigLong(u32()));
        break; // LONG4
      case 0x49: {
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : decimal(s));
        break;
      } // INT
      case 0x4c:
        stack.push(decimal(line()));
        break; // LONG
      case 0x47:
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break; // BINFLOAT
      case 0x58:
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x8d: {
        need(8);
        const n = Number(dv.getBigUint64(p, true));
        p += 8;
        need(n);
        stack.push(text(n));
        break;
      } // BINUNICODE8
      case 0x54:
        stack.push(text(u32()));
        break; // BINSTRING
      case 0x55:
        stack.push(text(u8()));
        break; // SHORT_BINSTRING
      case 0x42:
        stack.push(raw(u32()));
        break; // BINBYTES
      case 0x43:
        stack.push(raw(u8()));
        break; // SHORT_BINBYTES
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      } // TUPLE3
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        const v = pop();
        list().push(v);
        break;
      } // APPEND
      case 0x65: {
        const vs = popMark();
        const l = list();
        for (const v of vs) l.push(v);
        break;
      } // APPENDS
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        const m = new Map();
        setItems(m, popMark());
        stack.push(m);
        break;
      } // DICT
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x63: {
        const mod = line();
        stack.push(global(`${mod}.${line()}`));
        break;
      } // GLOBAL
      case 0x93: {
        const name = pop();
        const mod = pop();
        if (typeof name !== 'string' || typeof mod !== 'string')
          fail('a module and a name as strings', `${describe(mod)} and ${describe(name)}`);
        stack.push(global(`${mod}.${name}`));
        break;
      } // STACK_GLOBAL
      case 0x52: {
        const args = pop();
        stack.push(call(pop(), args));
        break;
      } // REDUCE
      case 0x62:
        pop();
        break; // BUILD: state of an OrderedDict (_metadata) or a tensor; not needed
      case 0x81: {
        const args = pop();
        stack.push(call(pop(), args));
        break;
      } // NEWOBJ
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x70:
        memo.set(decimal(line()), top());
        break; // PUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
        stack.push(memoGet(u8()));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(u32()));
        break; // LONG_BINGET
      case 0x67:
        stack.push(memoGet(decimal(line())));
        break; // GET
      case 0x51:
        stack.push(new PersistentId(pop()));
        break; // BINPERSID
      case 0x50:
        stack.push(new PersistentId(line()));
        break; // PERSID
      default:
        fail('a pickle opcode used by state_dicts', `opcode 0x${op.toString(16).padStart(2, '0')}, refused`);
    }
  }
}
