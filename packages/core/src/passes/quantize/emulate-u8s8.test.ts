// The AVX2 emulation against two things we did not write in graph form: a plain loop of VPMADDUBSW's arithmetic
// (int16 saturation of each K pair, MLAS's K order), and, on a CPU whose onnxruntime takes that path, the real kernel.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../ir/graph.js';
import { type Node, int, ints } from '../../ir/node.js';
import type { Initializer } from '../../ir/tensor.js';
import { toOnnx } from '../../onnx/write.js';
import { emulateAvx2U8S8 } from './emulate-u8s8.js';
import { cpuFlags, int8Kernels } from './kernels.js';

const kernels = (() => {
  try {
    return int8Kernels(cpuFlags(readFileSync('/proc/cpuinfo', 'utf8')), process.arch);
  } catch {
    return int8Kernels([], process.arch);
  }
})();

/** A deterministic generator (xorshift32): the same codes on every machine. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

interface Layer {
  readonly c: number;
  readonly o: number;
  readonly k: number;
  readonly hw: number;
  readonly pad: number;
  readonly stride: number;
  readonly zero: number; // the activation's zero point
  readonly gemm?: 'transB' | 'plain';
}

const SX = 1 / 64; // a power of two: x = (q - zero) * SX is exact, so QuantizeLinear gives back q
const sat = (v: number) => Math.max(-32768, Math.min(32767, v));

/** VPMADDUBSW's arithmetic, written as a loop: K in (ky, kx, c) order, pairs (2i, 2i+1) added in int16. */
function reference(l: Layer, q: Uint8Array, w: Int8Array, saturate: boolean): Float64Array {
  const { c, o, k, hw, pad, stride, zero } = l;
  const oh = Math.floor((hw + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(o * oh * oh);
  const a = new Int32Array(k * k * c + 1);
  const b = new Int32Array(k * k * c + 1);
  for (let ch = 0; ch < o; ch++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < oh; x++) {
        let kk = 0;
        let wsum = 0;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++)
            for (let ci = 0; ci < c; ci++, kk++) {
              const iy = y * stride + ky - pad;
              const ix = x * stride + kx - pad;
              const inside = iy >= 0 && iy < hw && ix >= 0 && ix < hw;
              a[kk] = inside ? q[(ci * hw + iy) * hw + ix]! : zero;
              b[kk] = w[((ch * c + ci) * k + ky) * k + kx]!;
              wsum += b[kk]!;
            }
        a[kk] = 0;
        b[kk] = 0;
        let acc = 0;
        for (let i = 0; i < kk; i += 2) {
          const pair = a[i]! * b[i]! + a[i + 1]! * b[i + 1]!;
          acc += saturate ? sat(pair) : pair;
        }
        out[(ch * oh + y) * oh + x] = acc - zero * wsum;
      }
  return out;
}

const f32 = (name: string, dims: number[], data: Float32Array): Initializer => ({ name, dtype: 'float32', dims, data });

/** x -> Q -> DQ -> Conv|Gemm (int8 weight, scale 1 per channel) [-> Q -> DQ] -> y. */
function layerGraph(l: Layer, w: Int8Array, requantize?: { scale: number; zero: number }): Graph {
  const { c, o, k, hw, pad, stride, zero, gemm } = l;
  const inputShape = gemm ? [1, c] : [1, c, hw, hw];
  const wDims = gemm === 'plain' ? [c, o] : gemm ? [o, c] : [o, c, k, k];
  const wData = gemm === 'plain' ? Int8Array.from({ length: c * o }, (_, i) => w[(i % o) * c + Math.floor(i / o)]!) : w;
  const oh = Math.floor((hw + 2 * pad - k) / stride) + 1;
  const nodes: Node[] = [
    { name: 'q', op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'], attrs: {} },
    { name: 'dq', op: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'], attrs: {} },
    {
      name: 'wdq',
      op: 'DequantizeLinear',
      inputs: ['wq', 'ws', 'wz'],
      outputs: ['w'],
      attrs: { axis: int(gemm === 'plain' ? 1 : 0) },
    },
    gemm
      ? {
          name: 'layer',
          op: 'Gemm',
          inputs: ['xd', 'w'],
          outputs: ['y'],
          attrs: { transB: int(gemm === 'transB' ? 1 : 0) },
        }
      : {
          name: 'layer',
          op: 'Conv',
          inputs: ['xd', 'w'],
          outputs: ['y'],
          attrs: { pads: ints([pad, pad, pad, pad]), strides: ints([stride, stride]), kernel_shape: ints([k, k]) },
        },
  ];
  const inits: Initializer[] = [
    f32('xs', [], Float32Array.of(SX)),
    { name: 'xz', dtype: 'uint8', dims: [], data: Uint8Array.of(zero) },
    { name: 'wq', dtype: 'int8', dims: wDims, data: wData },
    f32('ws', [o], new Float32Array(o).fill(1)),
    { name: 'wz', dtype: 'int8', dims: [o], data: new Int8Array(o) },
  ];
  let out = 'y';
  if (requantize) {
    inits.push(f32('ys', [], Float32Array.of(requantize.scale)));
    inits.push({ name: 'yz', dtype: 'uint8', dims: [], data: Uint8Array.of(requantize.zero) });
    nodes.push({ name: 'yq', op: 'QuantizeLinear', inputs: ['y', 'ys', 'yz'], outputs: ['yq'], attrs: {} });
    nodes.push({ name: 'ydq', op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['out'], attrs: {} });
    out = 'out';
  }
  const outShape = gemm ? [1, o] : [1, o, oh, oh];
  return {
    name: 'layer',
    inputs: [{ name: 'x', type: { dtype: 'float32', shape: inputShape } }],
    outputs: [{ name: out, type: { dtype: 'float32', shape: outShape } }],
    initializers: inits,
    nodes,
    values: [],
    metadata: {},
  };
}

async function run(g: Graph, x: Float32Array, level: 'disabled' | 'all'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(toOnnx(g), { graphOptimizationLevel: level, intraOpNumThreads: 1 });
  try {
    const r = await s.run({ x: new ort.Tensor('float32', x, g.inputs[0]!.type.shape as number[]) });
    return r[g.outputs[0]!.name]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** Codes that saturate often: activations mostly high, weights mostly large. */
function codes(l: Layer, seed: number): { q: Uint8Array; w: Int8Array; x: Float32Array } {
  const r = random(seed);
  const n = l.gemm ? l.c : l.c * l.hw * l.hw;
  const q = Uint8Array.from({ length: n }, () => (r() < 0.7 ? 160 + Math.floor(r() * 96) : Math.floor(r() * 256)));
  const k = l.gemm ? 1 : l.k * l.k;
  const w = Int8Array.from({ length: l.o * l.c * k }, () => Math.round((r() * 2 - 1) * 127));
  return { q, w, x: Float32Array.from(q, (v) => (v - l.zero) * SX) };
}

const LAYERS: [string, Layer][] = [
  ['1x1 conv, 16 -> 16', { c: 16, o: 16, k: 1, hw: 4, pad: 0, stride: 1, zero: 0 }],
  ['3x3 conv, stride 2, padded at zero point 200', { c: 8, o: 8, k: 3, hw: 7, pad: 1, stride: 2, zero: 200 }],
  ['5x5 conv, 6 -> 24, padded at zero point 0', { c: 6, o: 24, k: 5, hw: 6, pad: 2, stride: 1, zero: 0 }],
  ['Gemm transB=1, 64 -> 10', { c: 64, o: 10, k: 1, hw: 1, pad: 0, stride: 1, zero: 128, gemm: 'transB' }],
  ['Gemm transB=0, 32 -> 12', { c: 32, o: 12, k: 1, hw: 1, pad: 0, stride: 1, zero: 7, gemm: 'plain' }],
];

describe('emulateAvx2U8S8: int8 layers computing as VPMADDUBSW does', () => {
  it.each(LAYERS)('%s: equals the loop of VPMADDUBSW arithmetic, pruned, unpruned and chunked', async (_, l) => {
    const { q, w, x } = codes(l, 7);
    const g = layerGraph(l, w);
    const exact = reference(l, q, w, false);
    const saturated = reference(l, q, w, true);
    const lost = saturated.reduce((n, v, i) => n + (v !== exact[i] ? 1 : 0), 0);
    expect(lost).toBeGreaterThan(saturated.length / 10); // the codes do saturate: the test can tell
    expect(Array.from(await run(g, x, 'disabled'), (v) => v / SX)).toEqual(Array.from(exact)); // float QDQ is exact
    for (const options of [{}, { prune: false }, { chunk: 64 }]) {
      const emulated = await run(emulateAvx2U8S8(g, options), x, 'disabled');
      for (const [i, v] of emulated.entries()) expect(v / SX).toBeCloseTo(saturated[i]!, 0);
    }
  });

  it('leaves layers none of whose pairs can saturate as they are', () => {
    const l = LAYERS[0]![1];
    const w = Int8Array.from({ length: 256 }, (_, i) => (i % 2 ? 64 : -127)); // pairs of opposite signs
    const g = layerGraph(l, w);
    expect(emulateAvx2U8S8(g).nodes.length).toBe(g.nodes.length);
  });

  // Proof of the emulation against the kernel it stands for, where this CPU has it; elsewhere, the CPU's own
  // kernel against exact arithmetic (what the emulation must not claim to be).
  it.each(LAYERS)(
    `%s: onnxruntime's QLinearConv/QGemm on this CPU (${kernels.path}) ${kernels.saturates ? 'equals the emulation' : 'is exact'} to one output code`,
    async (_, l) => {
      const { q, w, x } = codes(l, 11);
      const exact = reference(l, q, w, false);
      const saturated = reference(l, q, w, true);
      const all = [...exact, ...saturated];
      const [lo, hi] = [Math.min(0, ...all) * SX, Math.max(0, ...all) * SX];
      const scale = Math.fround((hi - lo) / 255);
      const requantize = { scale, zero: Math.round(-lo / scale) };
      const g = layerGraph(l, w, requantize);
      const real = await run(g, x, 'all');
      const expected = await run(kernels.saturates ? emulateAvx2U8S8(g) : g, x, 'disabled');
      let off = 0;
      for (const [i, v] of real.entries()) {
        expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(scale * 1.001);
        if (v !== expected[i]) off++;
      }
      expect(off).toBeLessThanOrEqual(Math.ceil(real.length * 0.02)); // requantization rounding, rarely
    },
  );
});
