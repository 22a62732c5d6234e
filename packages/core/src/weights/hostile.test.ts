import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MobileNetError } from '../ir/errors.js';
import { P, f32bytes, pickle, stateDictPickle } from '../../test/fuzz/pickles.js';
import { makeZip } from '../../test/testing.js';
import { readCheckpoint } from './index.js';
import { buildWithWeights } from './load.js';
import { unpickle } from './pickle.js';
import { readPth } from './pth.js';
import { readSafetensors } from './safetensors.js';
import { type CheckpointTensor, toFloat32 } from './tensor.js';
import { readZip } from './zip.js';

// One regression test per class of hostile checkpoint found by the adversarial probe (issue 11). Each must be
// answered with our error, naming the file (and tensor), quickly and without a memory spike.
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../test/fixtures/checkpoints/${name}`, import.meta.url)));
const pth = (pkl: Uint8Array, data: Record<string, Uint8Array> = { 'archive/data/0': f32bytes([1, 2, 3, 4, 5, 6]) }) =>
  makeZip({ 'archive/data.pkl': pkl, ...data });

/** Runs `fn`, expects our error matching `message`, and bounds time and heap growth. */
function refused(fn: () => unknown, message: RegExp | string, { ms = 2000, heapMiB = 200 } = {}): MobileNetError {
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  const took = performance.now() - t0;
  expect(error, 'expected an error').toBeInstanceOf(MobileNetError);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message.length).toBeLessThan(1000);
  expect(took).toBeLessThan(ms);
  expect((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toBeLessThan(heapMiB);
  return error as MobileNetError;
}

const tensor = (extra: Partial<Parameters<typeof stateDictPickle>[0][string]>) => ({
  storage: '0',
  numel: 6,
  offset: 0,
  size: [P.int(2), P.int(3)],
  stride: [P.int(3), P.int(1)],
  ...extra,
});

describe('PyTorch-written fixtures read as torch.load reads them (strided, expanded, sliced, every dtype)', () => {
  const expected = JSON.parse(
    readFileSync(new URL('../../test/fixtures/checkpoints/values.json', import.meta.url), 'utf8'),
  ) as { tensors: Record<string, { shape: number[]; values: number[] }> };
  const values = (t: CheckpointTensor) => {
    if (t.dtype === 'I64') return Array.from(new BigInt64Array(t.bytes.slice().buffer), Number);
    return Array.from(toFloat32(t, 'x'));
  };
  for (const file of ['tiny.pth', 'tiny.legacy.pth', 'tiny.safetensors']) {
    it(file, () => {
      const ckpt = readCheckpoint(fixture(file), file);
      expect([...ckpt.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());
      for (const [k, want] of Object.entries(expected.tensors)) {
        const t = ckpt.get(k)!;
        expect(t.shape, k).toEqual(want.shape);
        const got = values(t);
        // F32 exactly; F16/BF16/F64 as float32 (f64 values rounded to f32).
        got.forEach((v, i) => {
          expect(v, `${file} ${k}[${i}]`).toBeCloseTo(Math.fround(want.values[i]!), 6);
        });
      }
    });
  }
});

describe('hostile checkpoints: wrong weights', () => {
  it('a negative storage offset is refused, naming the tensor (it used to read bytes before the storage)', () => {
    refused(
      () => readPth(pth(stateDictPickle({ w: tensor({ offset: -4 }) })), 'neg.pth'),
      "neg.pth: tensor 'w': expected the storage offset as a non-negative integer, received -4",
    );
  });
  it('a view reaching past its storage is refused', () => {
    refused(
      () => readPth(pth(stateDictPickle({ w: tensor({ offset: 1 }) })), 'past.pth'),
      "past.pth: tensor 'w': expected a view within its storage of 6 elements, received a view reaching element 7",
    );
  });
  it('negative and NaN strides are refused, naming the tensor', () => {
    refused(
      () => readPth(pth(stateDictPickle({ w: tensor({ stride: [P.int(-3), P.int(1)] }) })), 's.pth'),
      "s.pth: tensor 'w': expected every stride as a non-negative integer, received -3",
    );
    refused(
      () => readPth(pth(stateDictPickle({ w: tensor({ stride: [P.float(Number.NaN), P.int(1)] }) })), 's.pth'),
      "s.pth: tensor 'w': expected every stride as a non-negative integer, received NaN",
    );
  });
  it('a view shorter than its shape is refused by toFloat32 (no array built from the element count alone)', () => {
    const pool = Buffer.from('a secret that must never become weights');
    refused(
      () => toFloat32({ dtype: 'F32', shape: [8], bytes: pool.subarray(0, 4) }, 'lib: tensor t'),
      'lib: tensor t: expected 32 bytes for F32 [8], received 4',
    );
  });
});

describe('hostile checkpoints: bounded time and memory', () => {
  it('a 256 KB pickle LONG4 is refused at once (it used to take over 60 s)', () => {
    const big = new Uint8Array(256 * 1024).fill(0x11);
    refused(
      () => unpickle(pickle(P.proto(2), P.long4(big), P.stop()), 'long.pth'),
      /long\.pth: pickle at byte \d+: expected an integer of at most 64 bytes .*, received 262144 bytes/,
      { ms: 500 },
    );
  });
  it('"billion laughs" through the memo is described by size, never printed', () => {
    // 2^60 leaves once printed, 200 bytes as a pickle.
    const laughs = [
      P.str('lol'),
      P.put(0),
      P.pop(),
      ...[...Array(60).keys()].flatMap((i) => [P.mark(), P.get(i), P.get(i), P.tuple(), P.put(i + 1), P.pop()]),
      P.get(60),
    ];
    refused(
      () => unpickle(pickle(P.proto(2), laughs, P.none(), P.reduce(), P.stop()), 'lol.pth'),
      'lol.pth: pickle at byte 1103: expected an allowed global called with a tuple, received a sequence of 2 called with None',
      { ms: 500, heapMiB: 50 },
    );
    const asStorage = pickle(
      P.proto(2),
      P.emptyDict(),
      P.str('w'),
      P.global('torch._utils', '_rebuild_tensor_v2'),
      P.mark(),
      laughs,
      P.persid(),
      P.int(0),
      P.mark(),
      P.int(1),
      P.tuple(),
      P.mark(),
      P.int(1),
      P.tuple(),
      P.tuple(),
      P.reduce(),
      P.setitem(),
      P.stop(),
    );
    refused(
      () => readPth(pth(asStorage), 'lol.pth'),
      "lol.pth: tensor 'w': expected a persistent id ('storage', <typed storage>, key, location, size), received a sequence of 2",
      { ms: 500, heapMiB: 50 },
    );
  });
  it('a zero-stride expanded tensor is not copied before keys and shapes are checked; a huge copy is capped', () => {
    const huge = stateDictPickle({
      'features.0.0.weight': tensor({ numel: 1, size: [P.int(1 << 20), P.int(1 << 12)], stride: [P.int(0), P.int(0)] }),
    });
    const heap0 = process.memoryUsage().heapUsed;
    const ckpt = readPth(pth(huge, { 'archive/data/0': f32bytes([1]) }), 'x.pth');
    refused(
      () => buildWithWeights({ arch: 'v2' }, ckpt, { source: 'x.pth' }),
      /^x\.pth: expected the \d+ torchvision keys of v2/,
      { heapMiB: 100 },
    );
    refused(
      () => ckpt.get('features.0.0.weight')!.bytes,
      "x.pth: tensor 'features.0.0.weight': expected a tensor of at most 268435456 bytes, received 17179869184 bytes for [1048576, 4096]",
    );
    expect((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toBeLessThan(100);
  });
});

describe('hostile checkpoints: errors name the file and what was expected', () => {
  it('pickle: APPEND onto a non-list, huge APPENDS, BigInt offsets, a size that is not a list, a circular persistent id', () => {
    refused(
      () => unpickle(pickle(P.proto(2), P.emptyDict(), P.none(), P.append(), P.stop()), 'a.pth'),
      'a.pth: pickle at byte 5: expected a list to append to, received a dict of 0',
    );
    const many = pickle(
      P.proto(2),
      P.emptyList(),
      P.mark(),
      Array.from({ length: 300_000 }, () => P.none()),
      P.appends(),
      P.stop(),
    );
    expect((unpickle(many, 'm.pth').value as unknown[]).length).toBe(300_000);
    const big = new Uint8Array(9).fill(0x7f);
    refused(
      () => readPth(pth(stateDictPickleWith({ offset: P.long1(big) })), 'b.pth'),
      "b.pth: tensor 'w': expected the storage offset as a non-negative integer, received an integer of 72 bits",
    );
    refused(
      () => readPth(pth(stateDictPickleWith({ size: 'int' })), 'c.pth'),
      "c.pth: tensor 'w': expected a shape (a list of at most 64 dims), received 3",
    );
    const circular = pickle(
      P.proto(2),
      P.emptyDict(),
      P.str('w'),
      P.global('torch._utils', '_rebuild_tensor_v2'),
      P.mark(),
      P.emptyList(),
      P.dup(),
      P.append(),
      P.persid(),
      P.int(0),
      P.mark(),
      P.tuple(),
      P.mark(),
      P.tuple(),
      P.tuple(),
      P.reduce(),
      P.setitem(),
      P.stop(),
    );
    refused(
      () => readPth(pth(circular), 'circ.pth'),
      "circ.pth: tensor 'w': expected a persistent id ('storage', <typed storage>, key, location, size), received a sequence of 1",
    );
    const deep = pickle(
      P.proto(2),
      Array.from({ length: 100_000 }, () => P.emptyList()),
      Array.from({ length: 99_999 }, () => P.append()),
      P.stop(),
    );
    expect(Array.isArray(unpickle(deep, 'deep.pth').value)).toBe(true);
  });
  it('zip: offsets past the end of the file are refused by name', () => {
    const zip = makeZip({ 'archive/data.pkl': Uint8Array.of(0x80, 0x02, 0x7d, 0x2e) });
    const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const eocd = zip.length - 22;
    dv.setUint32(eocd + 16, 0xffffffff, true); // central directory in zip64, whose locator points outside
    const withLocator = new Uint8Array(zip.length + 20);
    withLocator.set(zip.subarray(0, eocd));
    const ldv = new DataView(withLocator.buffer);
    ldv.setUint32(eocd, 0x07064b50, true);
    ldv.setBigUint64(eocd + 8, 1n << 40n, true);
    withLocator.set(zip.subarray(eocd), eocd + 20);
    refused(
      () => readZip(withLocator, 'z.pth'),
      /^z\.pth: zip64 end of central directory: expected 4 bytes at offset 1099511627776 inside the \d+-byte file/,
    );
  });
  it('safetensors: a null entry, prototype dtype names, a header starting with a space, non-string metadata', () => {
    const st = (header: string) => {
      const h = new TextEncoder().encode(header);
      const b = new Uint8Array(8 + h.length + 8);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8);
      return b;
    };
    refused(
      () => readSafetensors(st('{"a":null}'), 'n.safetensors'),
      "n.safetensors: tensor 'a': expected an object with dtype, shape and data_offsets, received None",
    );
    for (const dtype of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      refused(
        () => readSafetensors(st(`{"a":{"dtype":"${dtype}","shape":[2],"data_offsets":[0,8]}}`), 'p.safetensors'),
        `p.safetensors: tensor 'a': expected a dtype among F64, F32`,
      );
    }
    refused(
      () => readCheckpoint(st(' {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), 's.safetensors'),
      "s.safetensors: header: expected a JSON object starting with '{' right after the 8-byte length (safetensors format), received a header starting with byte 0x20",
    );
    refused(
      () => readSafetensors(st('{"__metadata__":{"k":[1]}}'), 'm.safetensors'),
      "m.safetensors: header '__metadata__' key 'k': expected a string value, received a sequence of 1",
    );
    refused(
      () => readSafetensors(st('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}'), 'd.safetensors'),
      "d.safetensors: tensor 'a': expected every dim of the shape as a non-negative integer, received -2",
    );
    refused(
      () => readCheckpoint(new TextEncoder().encode('just some text file'), 't.bin'),
      /^t\.bin: expected a checkpoint: safetensors .* or PyTorch .*, received 19 bytes starting 6a 75 73 74/,
    );
  });
});

function stateDictPickleWith(o: { offset?: ReturnType<typeof P.int>; size?: 'int' }): Uint8Array {
  const ops = [
    P.proto(2),
    P.emptyDict(),
    P.str('w'),
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark(),
    P.mark(),
    P.str('storage'),
    P.global('torch', 'FloatStorage'),
    P.str('0'),
    P.str('cpu'),
    P.int(6),
    P.tuple(),
    P.persid(),
    o.offset ?? P.int(0),
    ...(o.size === 'int' ? [P.int(3)] : [P.mark(), P.int(6), P.tuple()]),
    P.mark(),
    P.int(1),
    P.tuple(),
    P.tuple(),
    P.reduce(),
    P.setitem(),
    P.stop(),
  ];
  return pickle(...ops);
}
