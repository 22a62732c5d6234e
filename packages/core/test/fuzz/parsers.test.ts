import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { buildModel } from '../../src/models/build.js';
import { fromOnnx } from '../../src/onnx/read.js';
import { onnx } from '../../src/onnx/proto.js';
import { summarizeOnnx } from '../../src/onnx/summary.js';
import { toOnnx } from '../../src/onnx/write.js';
import { modelInfo } from '../../src/session/model-info.js';
import { makeZip } from '../testing.js';
import { readCheckpoint } from '../../src/weights/index.js';
import { unpickle } from '../../src/weights/pickle.js';
import { readPth } from '../../src/weights/pth.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { type Checkpoint, DTYPE_BYTES, checkTensorBytes, toFloat32 } from '../../src/weights/tensor.js';
import { readZip } from '../../src/weights/zip.js';
import { type FuzzStats, MAX_CASE_MS, RUNS, check, mutated, newStats, ours, report } from './harness.js';
import { P, type Op, f32bytes, pickle, stateDictPickle } from './pickles.js';

// Property-based fuzzing of every parser (fast-check): each input is read, and must either give a valid result or
// be refused with our error naming the file, within the time bound. `pnpm --filter @mobilenet/core fuzz` runs
// FUZZ_RUNS (default 10000) cases per parser; the default test run does a few hundred.
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
const TIMEOUT = Math.max(60_000, RUNS * 50);

/** Uses what a reader returned as a caller would: every tensor's bytes (small ones copied too), checked. */
function consume(ckpt: Checkpoint, source: string): void {
  for (const [name, t] of ckpt) {
    const where = `${source}: tensor '${name}'`;
    if (t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype] > 2 ** 24) continue;
    checkTensorBytes(t, where);
    if (['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) toFloat32(t, where);
  }
}

function fuzz(name: string, arb: fc.Arbitrary<Uint8Array>, read: (b: Uint8Array, source: string) => void) {
  it(
    `${name}: ${RUNS} inputs are read or refused by name, each within ${MAX_CASE_MS} ms`,
    () => {
      const stats: FuzzStats = newStats();
      const t0 = performance.now();
      check(arb, (bytes) => ours(stats, 'fuzz.bin', () => read(bytes, 'fuzz.bin')));
      report(name, stats, performance.now() - t0);
    },
    TIMEOUT,
  );
}

const tiny = ['checkpoints/tiny.pth', 'checkpoints/tiny.legacy.pth', 'checkpoints/tiny.safetensors'].map(fixture);
const hostileDict = stateDictPickle({
  a: { storage: '0', numel: 6, offset: 0, size: [P.int(2), P.int(3)], stride: [P.int(3), P.int(1)] },
  b: { storage: '0', numel: 6, offset: 1, size: [P.int(4), P.int(2)], stride: [P.int(0), P.int(2)] },
});
const handmade = makeZip({ 'archive/data.pkl': hostileDict, 'archive/data/0': f32bytes([1, 2, 3, 4, 5, 6]) });

/** Random pickles op by op (valid encodings, arbitrary order): they reach deeper than random bytes. */
const pickleOp: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom(
    P.mark(),
    P.none(),
    P.false(),
    P.tuple(),
    P.emptyTuple(),
    P.emptyList(),
    P.emptyDict(),
    P.appends(),
    P.append(),
    P.setitem(),
    P.setitems(),
    P.dup(),
    P.reduce(),
    P.persid(),
    P.stop(),
  ),
  fc.integer().map(P.int),
  fc.double().map(P.float),
  fc.string({ maxLength: 8 }).map(P.str),
  fc.uint8Array({ maxLength: 12 }).map(P.long1),
  fc.nat({ max: 8 }).map(P.put),
  fc.nat({ max: 8 }).map(P.get),
  fc
    .constantFrom(
      ['torch._utils', '_rebuild_tensor_v2'],
      ['torch', 'FloatStorage'],
      ['torch', 'HalfStorage'],
      ['collections', 'OrderedDict'],
      ['torch._utils', '_rebuild_parameter'],
      ['os', 'system'],
      ['torch', 'toString'],
    )
    .map(([m, n]) => P.global(m!, n!)),
  fc.constantFrom('storage', '0', 'cpu').map(P.str),
);
const pickles = fc.array(pickleOp, { maxLength: 60 }).map((ops) => pickle(P.proto(2), ...ops, P.stop()));

describe('fuzz: checkpoint parsers', () => {
  fuzz('pickle (mutated torch pickles)', mutated([hostileDict, ...tiny.slice(1)]), (b, s) => unpickle(b, s));
  fuzz('pickle (generated op sequences)', pickles, (b, s) => unpickle(b, s));
  fuzz('pickle state_dicts as .pth (generated)', pickles, (b, s) =>
    consume(readPth(makeZip({ 'archive/data.pkl': b, 'archive/data/0': f32bytes([1, 2, 3, 4]) }), s), s),
  );
  fuzz('zip', mutated([tiny[0]!, handmade]), (b, s) => readZip(b, s));
  fuzz('.pth (zip and legacy)', mutated([tiny[0]!, tiny[1]!, handmade]), (b, s) => consume(readPth(b, s), s));
  fuzz(
    'safetensors',
    mutated(
      [tiny[2]!, writeSafetensors({ x: { dtype: 'F32', shape: [2], bytes: f32bytes([1, 2]) } }, { k: 'v' })],
      1024,
    ),
    (b, s) => consume(readSafetensors(b, s).tensors, s),
  );
  fuzz('any checkpoint (format detection)', mutated(tiny), (b, s) => consume(readCheckpoint(b, s), s));
});

const smallModel = toOnnx(buildModel({ arch: 'v3-small', width: 0.1, resolution: 32, classes: 10, weights: 1 }).graph);

/** Structural edits of a real model: the fields a hostile file would bend (dims, op types, attributes, metadata). */
const onnxEdit = fc.oneof(
  fc.record({
    k: fc.constant('op' as const),
    i: fc.nat(),
    v: fc.constantFrom('toString', '__proto__', 'constructor', 'Conv', 'Relu', 'Gemm', 'Foo', '', 'Reshape'),
  }),
  fc.record({
    k: fc.constant('dim' as const),
    i: fc.nat(),
    v: fc.constantFrom(-5, -1, 0, 1, 3, 2 ** 31, 2 ** 40, 20000),
  }),
  fc.record({ k: fc.constant('initDim' as const), i: fc.nat(), v: fc.constantFrom(-5, -1, 0, 1, 2 ** 31, 2 ** 40) }),
  fc.record({
    k: fc.constant('attr' as const),
    i: fc.nat(),
    name: fc.constantFrom('kernel_shape', 'strides', 'group', '__proto__', 'pads', 'axis'),
    type: fc.integer({ min: 0, max: 14 }),
    n: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({
    k: fc.constant('meta' as const),
    key: fc.constantFrom('mobilenet.preprocessing', '__proto__', 'x'),
    v: fc.oneof(fc.json(), fc.string()),
  }),
  fc.record({ k: fc.constant('drop' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('rename' as const), i: fc.nat(), v: fc.constantFrom('input', 'logits', '', 'x') }),
);
type OnnxEdit = typeof onnxEdit extends fc.Arbitrary<infer T> ? T : never;

/** The fields of a decoded graph the edits touch (protobufjs types every one of them as optional). */
interface EditableGraph {
  node: { opType: string; input: string[]; attribute: unknown[] }[];
  input: { type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown }[] } } } }[];
  output: EditableGraph['input'];
  initializer: { dims: number[] }[];
}

function editModel(bytes: Uint8Array, edits: OnnxEdit[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph as unknown as EditableGraph;
  const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
  for (const e of edits) {
    if (e.k === 'op') {
      const n = pick(g.node, e.i);
      if (n) n.opType = e.v;
    }
    if (e.k === 'dim') {
      const v = pick([...g.input, ...g.output], e.i);
      const d = v?.type?.tensorType?.shape?.dim;
      if (d?.length) d[e.i % d.length]!.dimValue = e.v;
    }
    if (e.k === 'initDim') {
      const t = pick(g.initializer, e.i);
      if (t?.dims.length) t.dims[e.i % t.dims.length] = e.v;
    }
    if (e.k === 'attr') {
      const n = pick(g.node, e.i);
      const sub = onnx.GraphProto.create({
        name: 'sub',
        node: [
          onnx.NodeProto.create({ opType: 'Relu', attribute: [onnx.AttributeProto.create({ name: 'bad', type: 5 })] }),
        ],
      });
      n?.attribute.push(
        onnx.AttributeProto.create({ name: e.name, type: e.type, i: e.n, ints: [e.n, e.n], f: e.n, g: sub }),
      );
    }
    if (e.k === 'meta')
      m.metadataProps.push(
        onnx.StringStringEntryProto.create({
          key: e.key,
          value:
            typeof (e as { v: unknown }).v === 'string'
              ? (e as { v: string }).v
              : JSON.stringify((e as { v: unknown }).v),
        }),
      );
    if (e.k === 'drop' && g.node.length) g.node.splice(e.i % g.node.length, 1);
    if (e.k === 'rename') {
      const n = pick(g.node, e.i);
      if (n?.input.length) n.input[0] = e.v as string;
    }
  }
  return onnx.ModelProto.encode(m).finish();
}

describe('fuzz: ONNX reader and model metadata', () => {
  const readAll = (b: Uint8Array, s: string) => {
    let first: unknown;
    for (const step of [() => fromOnnx(b, s), () => modelInfo(summarizeOnnx(b, s), s)]) {
      try {
        step();
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  };
  fuzz(
    'ONNX (structural edits of a real model)',
    fc.array(onnxEdit, { minLength: 1, maxLength: 4 }).map((es) => editModel(smallModel, es)),
    readAll,
  );
  fuzz('ONNX (byte edits of a real model)', mutated([smallModel], 1 << 20), readAll);

  const preprocessing = fc.record(
    {
      mean: fc.oneof(fc.constant([0.5, 0.5, 0.5]), fc.array(fc.oneof(fc.double(), fc.string()), { maxLength: 4 })),
      std: fc.oneof(fc.constant([0.5, 0.5, 0.5]), fc.constant([0, 1, 1]), fc.array(fc.double(), { maxLength: 4 })),
      resizeMode: fc.constantFrom('crop', 'squash', 'other', undefined),
      resize: fc.oneof(fc.constant(36), fc.integer({ min: -2, max: 100000 }), fc.double()),
      size: fc.oneof(fc.constant(32), fc.integer({ min: -2, max: 100000 })),
      interpolation: fc.constantFrom('bilinear', 'bicubic', 'nearest', undefined),
    },
    { requiredKeys: [] },
  );
  const dim = fc.oneof(fc.constantFrom(1, 3, 32, 1000, 20000, 2 ** 31, -5, 0), fc.string({ maxLength: 3 }));
  const summary = fc.record({
    inputs: fc.array(
      fc.record({
        name: fc.constantFrom('input', 'x'),
        shape: fc.oneof(
          fc.constant([1, 3, 32, 32] as (string | number)[]),
          fc.tuple(dim, fc.constant(3), dim, dim),
          fc.array(dim, { maxLength: 5 }),
        ),
      }),
      { maxLength: 2 },
    ),
    outputs: fc.array(
      fc.record({
        name: fc.constantFrom('logits', 'embedding', 'y'),
        shape: fc.oneof(fc.tuple(dim, dim), fc.array(dim, { maxLength: 3 })),
      }),
      { maxLength: 2 },
    ),
    meta: fc.oneof(
      fc.constant(undefined),
      preprocessing.map((p) => JSON.stringify(p)),
      fc.string(),
      fc.json(),
    ),
  });
  it(
    `model metadata: ${RUNS} summaries are accepted or refused by name, each within ${MAX_CASE_MS} ms`,
    () => {
      const stats = newStats();
      const t0 = performance.now();
      check(summary, ({ inputs, outputs, meta }) =>
        ours(stats, 'fuzz.onnx', () => {
          const info = modelInfo(
            { inputs, outputs, metadata: meta === undefined ? {} : { 'mobilenet.preprocessing': meta } },
            'fuzz.onnx',
          );
          void info.labels[info.classes - 1];
        }),
      );
      report('model metadata', stats, performance.now() - t0);
    },
    TIMEOUT,
  );
});
