import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../ir/builder.js';
import type { ParamFiller } from '../ir/params.js';
import type { Value } from '../ir/tensor.js';
import { maxAbsDiff, onnxCheck, pythonOnnxMissing, runOrt } from '../../test/testing.js';
import { fromOnnx } from './read.js';
import { summarizeOnnx } from './summary.js';
import { toOnnx } from './write.js';

interface Case {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
  params: Record<string, number[]>;
  bn_eps: Record<string, number>;
}
// Made by tools/fixtures/small_graphs.py with PyTorch (an independent implementation of every op).
const FIXTURE = JSON.parse(
  readFileSync(new URL('../../test/fixtures/small-graphs.json', import.meta.url), 'utf8'),
) as Record<string, Case>;

const fromFixture =
  (c: Case): ParamFiller =>
  ({ name }) => {
    const p = c.params[name];
    if (!p) throw new Error(`fixture has no parameter '${name}'`);
    return Float32Array.from(p);
  };

/** The same graphs as the torch modules in the fixture script, built with the IR under torch's names. */
const GRAPHS: Record<string, (b: GraphBuilder, x: Value, c: Case) => Value> = {
  conv_bn_relu6: (b, x, c) =>
    b.relu6(b.batchNorm(b.conv(x, 'conv', { out: 4, kernel: 3, stride: 2 }), 'bn', c.bn_eps.bn!), 'relu6'),
  depthwise: (b, x, c) =>
    b.relu(b.batchNorm(b.conv(x, 'conv', { out: 4, kernel: 3, group: 4 }), 'bn', c.bn_eps.bn!), 'relu'),
  residual: (b, x, c) => b.add(x, b.batchNorm(b.conv(x, 'conv', { out: 4, kernel: 1 }), 'bn', c.bn_eps.bn!), 'add'),
  hardswish: (b, x) => b.hardSwish(x, 'hardswish'),
  squeeze_excite: (b, x) => {
    let s = b.globalAveragePool(x, 'pool');
    s = b.relu(b.conv(s, 'fc1', { out: 8, kernel: 1, bias: true }), 'relu');
    s = b.hardSigmoid(b.conv(s, 'fc2', { out: 8, kernel: 1, bias: true }), 'gate');
    return b.mul(x, s, 'scale');
  },
  tf_same_pad: (b, x) => b.conv(x, 'conv', { out: 3, kernel: 3, stride: 2, pads: [0, 0, 1, 1] }),
  classifier: (b, x) => b.softmax(b.linear(b.flatten(b.globalAveragePool(x, 'pool'), 'flatten'), 'fc', 5), 'softmax'),
};

function build(name: string) {
  const c = FIXTURE[name]!;
  const b = new GraphBuilder(name, { init: fromFixture(c) });
  const x = b.input('input', c.input.shape);
  b.output(GRAPHS[name]!(b, x, c));
  return { c, graph: b.build() };
}

describe('small graphs run in onnxruntime and match PyTorch', () => {
  for (const name of Object.keys(GRAPHS)) {
    for (const opset of [13, 17, 21]) {
      it(`${name} at opset ${opset}`, async () => {
        const { c, graph } = build(name);
        const bytes = toOnnx(graph, { opset });
        const out = await runOrt(bytes, { input: { data: Float32Array.from(c.input.data), dims: c.input.shape } });
        const y = out[graph.outputs[0]!.name]!;
        expect(y.dims).toEqual(c.output.shape);
        expect(graph.outputs[0]!.type.shape).toEqual(c.output.shape);
        expect(maxAbsDiff(y.data as Float32Array, c.output.data)).toBeLessThan(1e-5);
      });
    }
  }

  it('hand-checked: h-swish of -4, -3, -1.5, 0, 1.5, 3, 4 is 0, 0, -0.375, 0, 1.125, 3, 4', async () => {
    for (const opset of [13, 14]) {
      const b = new GraphBuilder('hs');
      b.output(b.hardSwish(b.input('input', [7]), 'y'));
      const out = await runOrt(toOnnx(b.build(), { opset }), {
        input: { data: Float32Array.of(-4, -3, -1.5, 0, 1.5, 3, 4), dims: [7] },
      });
      expect(Array.from(out.y!.data as Float32Array)).toEqual(
        [-0, 0, -0.375, 0, 1.125, 3, 4].map((v) => expect.closeTo(v, 6)),
      );
    }
  });
});

describe('serialization', () => {
  it('lowers HardSwish below opset 14 to x * HardSigmoid(alpha=1/6, beta=0.5)', () => {
    const { graph } = build('hardswish');
    const s13 = summarizeOnnx(toOnnx(graph, { opset: 13 }));
    expect(s13.ops).toEqual({ HardSigmoid: 1, Mul: 1 });
    expect(s13.irVersion).toBe(7);
    const back = fromOnnx(toOnnx(graph, { opset: 13 })).graph;
    const hs = back.nodes.find((n) => n.op === 'HardSigmoid')!;
    expect(hs.attrs.alpha).toEqual({ kind: 'float', value: expect.closeTo(1 / 6, 7) });
    expect(summarizeOnnx(toOnnx(graph, { opset: 14 })).ops).toEqual({ HardSwish: 1 });
  });

  it('derives the IR version from the opset', () => {
    const { graph } = build('residual');
    const irs = [13, 14, 15, 17, 18, 19, 21].map((opset) => summarizeOnnx(toOnnx(graph, { opset })).irVersion);
    expect(irs).toEqual([7, 7, 8, 8, 8, 9, 10]);
  });

  it('rejects an opset outside 13-21, naming the option', () => {
    const { graph } = build('residual');
    expect(() => toOnnx(graph, { opset: 12 })).toThrow('option opset: expected an integer from 13 to 21, received 12');
    expect(() => toOnnx(graph, { opset: 22 })).toThrow(/option opset/);
  });

  it('round-trips: IR -> bytes -> IR -> bytes is byte-identical, at every opset', () => {
    for (const name of Object.keys(GRAPHS)) {
      for (const opset of [13, 14, 17, 18, 21]) {
        const { graph } = build(name);
        const bytes = toOnnx(graph, { opset });
        const again = toOnnx(fromOnnx(bytes).graph, { opset });
        expect(Buffer.compare(Buffer.from(bytes), Buffer.from(again)), `${name} opset ${opset}`).toBe(0);
      }
    }
  });

  it('writes the same bytes for the same graph', () => {
    expect(Buffer.from(toOnnx(build('squeeze_excite').graph))).toEqual(
      Buffer.from(toOnnx(build('squeeze_excite').graph)),
    );
  });

  it('rewrites the batch dimension, and a dynamic batch runs with any batch size', async () => {
    const { c, graph } = build('classifier');
    const bytes = toOnnx(graph, { batch: 'dynamic' });
    expect(summarizeOnnx(bytes).inputs[0]!.shape).toEqual(['batch', 6, 3, 3]);
    const x = Float32Array.from([...c.input.data, ...c.input.data]);
    const out = await runOrt(bytes, { input: { data: x, dims: [4, 6, 3, 3] } });
    expect(out.softmax!.dims).toEqual([4, 5]);
    expect(maxAbsDiff((out.softmax!.data as Float32Array).subarray(10), c.output.data)).toBeLessThan(1e-5);
  });

  it('stores initializers as little-endian raw_data and metadata_props in key order', () => {
    const b = new GraphBuilder('m');
    b.metadata.zeta = '1';
    b.metadata.alpha = '{"a":1}';
    b.output(b.relu6(b.input('input', [2]), 'y'));
    const s = summarizeOnnx(toOnnx(b.build()));
    expect(Object.keys(s.metadata)).toEqual(['alpha', 'zeta']);
    expect(s.initializerCount).toBe(2);
  });

  it('refuses a graph built without weight data instead of writing a hollow file', () => {
    const b = new GraphBuilder('none', { init: () => undefined });
    b.output(b.conv(b.input('input', [1, 3, 4, 4]), 'conv', { out: 2, kernel: 1 }));
    expect(() => toOnnx(b.build())).toThrow(
      "initializer 'conv.weight': expected tensor data, received none (graph was built for analysis only)",
    );
  });
});

describe('reader: bad input', () => {
  it('says what the bytes are when they are not ONNX', () => {
    expect(() => fromOnnx(new TextEncoder().encode('definitely not a model'), 'notes.txt')).toThrow(
      /^notes\.txt: expected an ONNX/,
    );
    expect(() => fromOnnx(new Uint8Array(0), 'empty.onnx')).toThrow(
      /empty\.onnx: expected an ONNX model with ir_version and a graph/,
    );
  });

  it('names an unsupported op and still summarizes the model', () => {
    const bytes = toOnnx(build('hardswish').graph, { opset: 14 });
    const patched = Buffer.from(bytes).toString('latin1').replace('HardSwish', 'HardSwizz');
    const foreign = Buffer.from(patched, 'latin1');
    expect(() => fromOnnx(foreign, 'foreign.onnx')).toThrow(
      /foreign\.onnx: node 'hardswish': expected one of the supported ops .*, received op 'HardSwizz'/,
    );
    expect(summarizeOnnx(foreign).unsupportedOps).toEqual(['HardSwizz']);
  });
});

describe('onnx.checker (Debian python3-onnx, an independent checker)', () => {
  const missing = pythonOnnxMissing();
  it.skipIf(missing !== null)(
    `passes check_model(full_check=True) at opsets 13-17 ${missing ? `(skipped: ${missing})` : ''}`,
    () => {
      const models: Record<string, Uint8Array> = {};
      // Debian's onnx 1.12 knows opsets up to 17.
      for (const name of Object.keys(GRAPHS))
        for (const opset of [13, 14, 15, 17]) models[`${name}-${opset}`] = toOnnx(build(name).graph, { opset });
      const results = onnxCheck(models);
      expect(results).toHaveLength(Object.keys(models).length);
      expect(results.filter((r) => !r.ok)).toEqual([]);
    },
  );
});
