import { describe, expect, it } from 'vitest';
import { checkGraph, type Graph } from '../ir/graph.js';
import { int } from '../ir/node.js';
import { DTYPE_CODE, type Initializer } from '../ir/tensor.js';
import { analyze } from '../analysis.js';
import { maxAbsDiff, onnxCheck, pythonOnnxMissing, runOrt } from '../../test/testing.js';
import { fromOnnx } from './read.js';
import { toOnnx } from './write.js';

const x = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => Math.sin(i * 0.7) * 3);
const wInt8 = Int8Array.from({ length: 2 * 2 * 1 * 1 }, (_, i) => [-128, 127, -7, 33][i]!);
const wScale = Float32Array.of(0.02, 0.005);
const bias = Int32Array.of(-1000, 25000);
const consts: Initializer[] = [
  { name: 'x.scale', dtype: 'float32', dims: [], data: Float32Array.of(0.05) },
  { name: 'x.zp8', dtype: 'int8', dims: [], data: Int8Array.of(-3) },
  { name: 'x.zpu8', dtype: 'uint8', dims: [], data: Uint8Array.of(128) },
  { name: 'w.q', dtype: 'int8', dims: [2, 2, 1, 1], data: wInt8 },
  { name: 'w.scale', dtype: 'float32', dims: [2], data: wScale },
  { name: 'w.zp', dtype: 'int8', dims: [2], data: Int8Array.of(0, 0) },
  // Bias in int32 with scale x.scale * w.scale, as quantizers store it.
  { name: 'b.q', dtype: 'int32', dims: [2], data: bias },
  { name: 'b.scale', dtype: 'float32', dims: [2], data: Float32Array.of(0.05 * 0.02, 0.05 * 0.005) },
  { name: 'h.bits', dtype: 'float16', dims: [1], data: Uint16Array.of(0x3c00) }, // 1.0 in float16
];

/** Every dtype the IR carries, in initializers and in values: int8/uint8 (Q/DQ), int32 (bias), float16 (Cast). */
function quantGraph(): Graph {
  const n = (name: string, op: string, inputs: string[], outputs: string[], attrs = {}) => ({
    name,
    op,
    inputs,
    outputs,
    attrs,
  });
  return checkGraph({
    name: 'dtypes',
    metadata: {},
    values: [],
    initializers: consts,
    inputs: [{ name: 'x', type: { dtype: 'float32', shape: [1, 2, 3, 3] } }],
    outputs: [
      { name: 'y8', type: { dtype: 'float32', shape: [1, 2, 3, 3] } },
      { name: 'yu8', type: { dtype: 'float32', shape: [1, 2, 3, 3] } },
      { name: 'conv', type: { dtype: 'float32', shape: [1, 2, 3, 3] } },
      { name: 'half', type: { dtype: 'float32', shape: [1, 2, 3, 3] } },
    ],
    nodes: [
      n('q8', 'QuantizeLinear', ['x', 'x.scale', 'x.zp8'], ['xq8']),
      n('dq8', 'DequantizeLinear', ['xq8', 'x.scale', 'x.zp8'], ['y8']),
      n('qu8', 'QuantizeLinear', ['x', 'x.scale', 'x.zpu8'], ['xqu8']),
      n('dqu8', 'DequantizeLinear', ['xqu8', 'x.scale', 'x.zpu8'], ['yu8']),
      n('dqw', 'DequantizeLinear', ['w.q', 'w.scale', 'w.zp'], ['w'], { axis: int(0) }),
      n('dqb', 'DequantizeLinear', ['b.q', 'b.scale'], ['b'], { axis: int(0) }),
      n('conv', 'Conv', ['y8', 'w', 'b'], ['conv']),
      n('to16', 'Cast', ['x'], ['x16'], { to: int(DTYPE_CODE.float16) }),
      n('times1', 'Mul', ['x16', 'h.bits'], ['x16b']),
      n('to32', 'Cast', ['x16b'], ['half'], { to: int(DTYPE_CODE.float32) }),
    ],
  });
}

const round = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v)); // ONNX rounds half to even
const qdq = (v: number, s: number, zp: number, lo: number, hi: number) =>
  (Math.min(hi, Math.max(lo, round(v / s) + zp)) - zp) * s;

describe('int8, uint8, int32 and float16 tensors', () => {
  it('are typed by Quantize/DequantizeLinear and Cast, and their scales and zero points are not parameters', () => {
    const g = quantGraph();
    const types = new Map(g.values.map((v) => [v.name, v.type.dtype]));
    expect([types.get('xq8'), types.get('xqu8'), types.get('w'), types.get('x16')]).toEqual([
      'int8',
      'uint8',
      'float32',
      'float16',
    ]);
    // Parameters: the stored int8 weight (4) and int32 bias (2); scales and zero points are not counted.
    expect(analyze(g).params).toBe(6);
  });

  it('round-trip through the writer and reader with their types and values, byte-identical', () => {
    const bytes = toOnnx(quantGraph(), { opset: 17 });
    const back = fromOnnx(bytes).graph;
    for (const c of consts) {
      const r = back.initializers.find((i) => i.name === c.name)!;
      expect(r.dtype, c.name).toBe(c.dtype);
      expect(r.data?.constructor, c.name).toBe(c.data!.constructor);
      expect(Array.from(r.data as ArrayLike<number>), c.name).toEqual(Array.from(c.data as ArrayLike<number>));
    }
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(toOnnx(back, { opset: 17 })))).toBe(0);
  });

  it('compute in onnxruntime as ONNX defines them', async () => {
    const out = await runOrt(toOnnx(quantGraph(), { opset: 17 }), { x: { data: x, dims: [1, 2, 3, 3] } });
    const y8 = Array.from(x, (v) => qdq(v, 0.05, -3, -128, 127));
    expect(maxAbsDiff(out.y8!.data as Float32Array, y8)).toBeLessThan(1e-6);
    expect(
      maxAbsDiff(
        out.yu8!.data as Float32Array,
        Array.from(x, (v) => qdq(v, 0.05, 128, 0, 255)),
      ),
    ).toBeLessThan(1e-6);
    // 1x1 conv over the dequantized input with the dequantized weights and bias.
    const conv = Array.from({ length: 18 }, (_, i) => {
      const [o, p] = [Math.floor(i / 9), i % 9];
      return (
        y8[p]! * wInt8[o * 2]! * wScale[o]! + y8[9 + p]! * wInt8[o * 2 + 1]! * wScale[o]! + bias[o]! * 0.05 * wScale[o]!
      );
    });
    expect(maxAbsDiff(out.conv!.data as Float32Array, conv)).toBeLessThan(1e-5);
    // float16 keeps 11 significant bits: |x| < 4 rounds to within 2^-9.
    expect(maxAbsDiff(out.half!.data as Float32Array, x)).toBeLessThan(2 ** -9);
  });

  it.skipIf(pythonOnnxMissing())('pass onnx.checker at opsets 13 and 17', () => {
    const results = onnxCheck({ o13: toOnnx(quantGraph(), { opset: 13 }), o17: toOnnx(quantGraph(), { opset: 17 }) });
    expect(results.map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok']);
  });
});
