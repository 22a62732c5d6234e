import { describe, expect, it } from 'vitest';
import { buildModel } from '../models/build.js';
import { fromOnnx } from '../onnx/read.js';
import { onnx } from '../onnx/proto.js';
import { summarizeOnnx } from '../onnx/summary.js';
import { toOnnx } from '../onnx/write.js';
import { BackendRegistry, type EngineSession } from './backend.js';
import { type Engine, openSession } from './open.js';
import { type ModelIO, type SessionOptions, modelInfo } from './model-info.js';

// Regression tests for hostile ONNX files and metadata (issue 11): each is refused at read or session open,
// naming the file and what was expected, quickly and without building per-class or per-pixel data first.
const PRE = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  resizeMode: 'crop',
  resize: 36,
  size: 32,
  interpolation: 'bilinear',
};
const io = (o: { size?: number; classes?: number; pre?: unknown }): ModelIO => ({
  inputs: [{ name: 'input', shape: ['N', 3, o.size ?? 32, o.size ?? 32] }],
  outputs: [{ name: 'logits', shape: ['N', o.classes ?? 10] }],
  metadata:
    o.pre === undefined ? {} : { 'mobilenet.preprocessing': typeof o.pre === 'string' ? o.pre : JSON.stringify(o.pre) },
});

function timed<T>(fn: () => T, ms = 1000): T {
  const t0 = performance.now();
  const r = fn();
  expect(performance.now() - t0).toBeLessThan(ms);
  return r;
}

describe('model metadata at session open', () => {
  it('[1, 2^31] logits are refused by a cap with the option that raises it; generic labels are made lazily', () => {
    expect(() => timed(() => modelInfo(io({ classes: 2 ** 31 }), 'huge.onnx'))).toThrow(
      "model 'huge.onnx': output 'logits': expected from 1 to 100000 classes (option maxClasses raises the cap), received 2147483648",
    );
    const heap0 = process.memoryUsage().heapUsed;
    const info = timed(() => modelInfo(io({ classes: 2 ** 31 }), 'huge.onnx', { maxClasses: 2 ** 32 }));
    expect(info.labels.length).toBe(2 ** 31);
    expect(info.labels[2 ** 31 - 1]).toBe('class 2147483647');
    expect(info.labels[2 ** 31]).toBeUndefined();
    expect((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toBeLessThan(50);
    expect(modelInfo(io({ classes: 3 }), 'm.onnx').labels.slice()).toEqual(['class 0', 'class 1', 'class 2']);
  });
  it('an input size of 20000 is refused (option maxInputSize raises the cap)', () => {
    expect(() => modelInfo(io({ size: 20000 }), 'big.onnx')).toThrow(
      "model 'big.onnx': input 'input': expected an input size from 1 to 4096 (option maxInputSize raises the cap), received 20000",
    );
  });
  it('bad JSON, a missing interpolation and a std of 0 are refused once, at open, naming the file and key', () => {
    expect(() => modelInfo(io({ pre: '{"mean": [' }), 'j.onnx')).toThrow(
      "model 'j.onnx': metadata 'mobilenet.preprocessing': expected JSON, received 10 characters that do not parse",
    );
    const { interpolation: _, ...noInterp } = PRE;
    expect(() => modelInfo(io({ pre: noInterp }), 'i.onnx')).toThrow(
      "model 'i.onnx': metadata 'mobilenet.preprocessing'.interpolation: expected 'bilinear' or 'bicubic', received nothing",
    );
    expect(() => modelInfo(io({ pre: { ...PRE, std: [0, 0.5, 0.5] } }), 's.onnx')).toThrow(
      "model 's.onnx': metadata 'mobilenet.preprocessing'.std: expected 3 finite numbers above 0, received a list of 3",
    );
    expect(() => modelInfo(io({ pre: { ...PRE, resize: 1e9 } }), 'r.onnx')).toThrow(
      "model 'r.onnx': metadata 'mobilenet.preprocessing'.resize: expected an integer from 1 to 16384, received 1000000000",
    );
    expect(() => modelInfo(io({}), 'o.onnx', { preprocessing: { ...PRE, std: [1, 1, 0] } as never })).toThrow(
      'option preprocessing.std: expected 3 finite numbers above 0',
    );
    expect(modelInfo(io({ pre: PRE }), 'ok.onnx').preprocessing).toEqual(PRE);
  });
});

describe('hostile ONNX graphs', () => {
  const model = () =>
    onnx.ModelProto.decode(
      toOnnx(buildModel({ arch: 'v3-small', width: 0.1, resolution: 32, classes: 10, weights: 1 }).graph),
    );
  /** The decoded fields these tests bend (protobufjs types every one of them as optional). */
  const G = (m: ReturnType<typeof model>) =>
    m.graph as unknown as {
      initializer: { dims: number[]; name: string }[];
      input: { type: { tensorType: { shape: { dim: { dimValue: unknown }[] } } } }[];
      node: { attribute: unknown[]; opType: string }[];
    };
  const encode = (m: ReturnType<typeof model>) => onnx.ModelProto.encode(m).finish();

  it('negative dims are refused, naming the file and the initializer or value', () => {
    const m = model();
    G(m).initializer[0]!.dims[0] = -5;
    expect(() => fromOnnx(encode(m), 'neg.onnx')).toThrow(
      new RegExp(
        `^neg\\.onnx: initializer '${G(m).initializer[0]!.name.replace(/\./g, '\\.')}': expected dims of non-negative integers, received \\[-5,`,
      ),
    );
    const v = model();
    G(v).input[0]!.type.tensorType.shape.dim[2]!.dimValue = -5;
    expect(() => fromOnnx(encode(v), 'neg.onnx')).toThrow(
      "neg.onnx: graph input 'input': expected a shape of non-negative integers, received [1, 3, -5, 32]",
    );
  });
  it('a GRAPH attribute is refused naming the file; an attribute named __proto__ too', () => {
    const m = model();
    G(m).node[0]!.attribute.push(
      onnx.AttributeProto.create({
        name: 'body',
        type: onnx.AttributeProto.AttributeType.GRAPH,
        g: onnx.GraphProto.create({ name: 'sub' }),
      }),
    );
    expect(() => fromOnnx(encode(m), 'g.onnx')).toThrow(
      /^g\.onnx: node '.*' \(Conv\) attribute 'body': expected an INT, FLOAT, INTS, FLOATS or STRING attribute, received type 5/,
    );
    const p = model();
    G(p).node[0]!.attribute.push(
      onnx.AttributeProto.create({ name: '__proto__', type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
    );
    expect(() => fromOnnx(encode(p), 'p.onnx')).toThrow(
      /^p\.onnx: node '.*' \(Conv\) attribute '__proto__': expected an attribute name of the op/,
    );
  });
  it("op types named after Object.prototype's members are unsupported ops, not crashes", () => {
    const m = model();
    G(m).node[1]!.opType = 'constructor';
    expect(() => fromOnnx(encode(m), 'c.onnx')).toThrow(
      /^c\.onnx: node '.*': expected one of the supported ops .*, received op 'constructor'/,
    );
    expect(summarizeOnnx(encode(m), 'c.onnx').unsupportedOps).toEqual(['constructor']);
  });
});

describe('a model onnxruntime refuses is reported as the model, not as the backend', () => {
  const graph = buildModel({ arch: 'v3-small', width: 0.1, resolution: 32, classes: 10, weights: 1 }).graph;
  const engine = (fail: (b: string) => string | null): Engine<unknown, string, SessionOptions, EngineSession> => {
    const backends = new BackendRegistry<SessionOptions, EngineSession>('test-runtime');
    for (const name of ['cpu', 'cuda']) {
      backends.register({
        name,
        start: async () => {
          const why = fail(name);
          if (why) throw new Error(why);
          return { run: async () => [new Float32Array(10)], release: async () => {} };
        },
      });
    }
    return {
      backends,
      defaultBackend: 'cpu',
      maxBatch: 16,
      read: async (name) => ({ bytes: new Uint8Array(1), name, graph }),
      images: () => ({
        name: () => 'img',
        decode: async () => ({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 }),
      }),
    };
  };
  const bad = () => '[ONNXRuntimeError] : 10 : INVALID_GRAPH : Load model failed\nmore';
  it('on the default backend, and after a fallback', async () => {
    const model = 'bad.onnx';
    await expect(openSession(engine(bad), model, {})).rejects.toThrow(
      "model 'bad.onnx': expected a model test-runtime can load, received [ONNXRuntimeError] : 10 : INVALID_GRAPH : Load model failed",
    );
    await expect(openSession(engine(bad), model, { backend: 'cuda', fallback: true })).rejects.toThrow(
      "model 'bad.onnx': expected a model test-runtime can load",
    );
    await expect(
      openSession(
        engine((b) => (b === 'cuda' ? 'no CUDA here' : null)),
        model,
        { backend: 'cuda' },
      ),
    ).rejects.toThrow(
      "option backend 'cuda': expected a backend that works here, received test-runtime could not start the cuda provider for 'bad.onnx': no CUDA here",
    );
    const ok = await openSession(
      engine(() => null),
      model,
      {},
    );
    expect(ok.session.info.classes).toBe(10);
  });
});
