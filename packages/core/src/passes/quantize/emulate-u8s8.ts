// A quantized graph that computes as onnxruntime's AVX2 U8S8 kernels do, on any CPU.
//
// MLAS's x86 kernels without VNNI multiply uint8 activation codes by int8 weight codes with VPMADDUBSW, which adds
// the two products of each K pair (2j, 2j+1) in int16 with saturation (weights.ts has the K order). Run with graph
// optimisation disabled, where onnxruntime executes QDQ in float, the QDQ graph gives the exact int32 arithmetic of
// VNNI; this pass adds to each int8 Conv and Gemm the difference saturation makes:
//
//   y = conv(x, w) + sx * sw[o] * sum over pairs and taps of (clip(P, -32768, 32767) - P),
//   P = qa * wa + qb * wb  (raw codes: activations with their zero point, padding at the zero point)
//
// built from ordinary ops: the pair products are a grouped conv with one group per input-channel pair.
import { type Graph, checkGraph } from '../../ir/graph.js';
import { type Node, attrInt, attrInts, int, ints } from '../../ir/node.js';
import type { Initializer } from '../../ir/tensor.js';
import { GraphError } from '../../ir/errors.js';
import { producers } from '../pass.js';
import { PAIR_LIMIT } from './weights.js';

/** Floats one chunk of pair products may hold per image (16 MiB): bigger layers are split. */
const CHUNK = 1 << 22;

export interface EmulateOptions {
  /** Only pairs that can saturate (same-signed codes summing above PAIR_LIMIT) get products. Default true. */
  readonly prune?: boolean;
  /** Floats per image in one chunk of pair products. */
  readonly chunk?: number;
}

/** One int8 Conv (or Gemm seen as a 1x1 conv) and what the emulation reads of it. */
interface Int8Layer {
  readonly node: Node;
  readonly codes: Int8Array; // [O, C, kh, kw]
  readonly dims: readonly [number, number, number, number];
  readonly weightScales: Float32Array;
  readonly xq: string; // the uint8 codes the layer reads
  readonly xScale: number;
  readonly xZero: number;
  readonly out: readonly [number, number]; // output H', W'
}

const initOf = (g: Graph) => new Map(g.initializers.map((i) => [i.name, i]));

/** The int8 Convs and Gemms of a QDQ graph whose activations are uint8 codes (the U8S8 kernels' input). */
function int8Layers(g: Graph): Int8Layer[] {
  const from = producers(g);
  const inits = initOf(g);
  const types = new Map([...g.values, ...g.outputs].map((v) => [v.name, v.type.shape]));
  const layers: Int8Layer[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'Conv' && n.op !== 'Gemm') continue;
    const xdq = from.get(n.inputs[0]!);
    const wdq = from.get(n.inputs[1]!);
    const wq = wdq?.op === 'DequantizeLinear' ? inits.get(wdq.inputs[0]!) : undefined;
    const xq = xdq?.op === 'DequantizeLinear' ? xdq.inputs[0]! : undefined;
    if (!xq || wq?.dtype !== 'int8' || from.get(xq)?.op !== 'QuantizeLinear') continue;
    const zero = inits.get(xdq!.inputs[2] ?? '');
    if (zero?.dtype !== 'uint8') continue; // int8 activations: S8S8, another kernel
    if (n.op === 'Conv' && attrInt(n, 'group', 1) > 1) continue; // depthwise: 32-bit accumulation
    const scales = inits.get(wdq!.inputs[1]!)!.data as Float32Array;
    const shape = types.get(n.outputs[0]!)!;
    if (n.op === 'Gemm') {
      const [a, b] = wq.dims as [number, number];
      const transB = attrInt(n, 'transB', 0) === 1;
      const [o, k] = transB ? [a, b] : [b, a];
      const codes = transB ? (wq.data as Int8Array) : transpose(wq.data as Int8Array, a, b);
      layers.push({
        node: n,
        codes,
        dims: [o, k, 1, 1],
        weightScales: scales,
        xq,
        ...zeroOf(inits, xdq!),
        out: [1, 1],
      });
    } else {
      const [o, c, kh, kw] = wq.dims as [number, number, number, number];
      if (c % 2)
        throw new GraphError(
          'unsupported',
          `node '${n.name}'`,
          'an even number of input channels to emulate AVX2 pairs',
          `${c}`,
        );
      const out = [shape[2] as number, shape[3] as number] as const;
      layers.push({
        node: n,
        codes: wq.data as Int8Array,
        dims: [o, c, kh, kw],
        weightScales: scales,
        xq,
        ...zeroOf(inits, xdq!),
        out,
      });
    }
  }
  return layers;
}

function zeroOf(inits: ReadonlyMap<string, Initializer>, dq: Node): { xScale: number; xZero: number } {
  return {
    xScale: (inits.get(dq.inputs[1]!)!.data as Float32Array)[0]!,
    xZero: (inits.get(dq.inputs[2]!)!.data as Uint8Array)[0]!,
  };
}

function transpose(a: Int8Array, rows: number, cols: number): Int8Array {
  const t = new Int8Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

/** Input-channel pairs j and output channels o that have a pair of codes able to saturate (or all of them). */
function riskyPairs(l: Int8Layer, prune: boolean): { groups: number[]; outputs: number[] } {
  const [o, c, kh, kw] = l.dims;
  const taps = kh * kw;
  const groups = new Set<number>();
  const outputs = new Set<number>();
  for (let ch = 0; ch < o; ch++)
    for (let j = 0; j < c / 2; j++)
      for (let t = 0; t < taps; t++) {
        const a = l.codes[(ch * c + 2 * j) * taps + t]!;
        const b = l.codes[(ch * c + 2 * j + 1) * taps + t]!;
        if (!prune || (Math.sign(a) === Math.sign(b) && Math.abs(a) + Math.abs(b) > PAIR_LIMIT)) {
          groups.add(j);
          outputs.add(ch);
        }
      }
  return { groups: [...groups].sort((x, y) => x - y), outputs: [...outputs].sort((x, y) => x - y) };
}

/** Splits `items` into runs of at most `size`. */
const chunks = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * Every int8 Conv and Gemm of a QDQ graph (uint8 activations, int8 weights) made to compute as onnxruntime's AVX2
 * U8S8 kernels do. Run the result with graph optimisation disabled. Layers none of whose pairs can saturate stay
 * as they are.
 */
export function emulateAvx2U8S8(graph: Graph, options: EmulateOptions = {}): Graph {
  const g = checkGraph(graph);
  const prune = options.prune ?? true;
  const limit = options.chunk ?? CHUNK;
  const extra: Initializer[] = [];
  const added = new Map<Node, Node[]>();
  const renamed = new Map<Node, string>();
  for (const l of int8Layers(g)) {
    const risky = riskyPairs(l, prune);
    if (!risky.groups.length) continue;
    const nodes = correction(l, risky, limit, extra);
    renamed.set(l.node, `${l.node.outputs[0]}.exact`);
    added.set(l.node, nodes);
  }
  const nodes = g.nodes.flatMap((n) =>
    renamed.has(n) ? [{ ...n, outputs: [renamed.get(n)!] }, ...added.get(n)!] : [n],
  );
  return checkGraph({ ...g, nodes, initializers: [...g.initializers, ...extra], values: [] });
}

/** The nodes that add a layer's saturation to its exact output (renamed `<out>.exact`), writing `<out>`. */
function correction(
  l: Int8Layer,
  risky: { groups: number[]; outputs: number[] },
  limit: number,
  extra: Initializer[],
): Node[] {
  const n = l.node;
  const [o, c, kh, kw] = l.dims;
  const taps = kh * kw;
  const [oh, ow] = l.out;
  const p = `${n.outputs[0]}.avx2`;
  const nodes: Node[] = [];
  const node = (name: string, op: string, inputs: string[], attrs: Node['attrs'] = {}): string => {
    nodes.push({ name: `${p}.${name}`, op, inputs, outputs: [`${p}.${name}`], attrs });
    return `${p}.${name}`;
  };
  const f32 = (name: string, dims: number[], data: Float32Array): string => {
    extra.push({ name: `${p}.const.${name}`, dtype: 'float32', dims, data });
    return `${p}.const.${name}`;
  };
  const i64 = (name: string, values: number[]): string => {
    extra.push({
      name: `${p}.const.${name}`,
      dtype: 'int64',
      dims: [values.length],
      data: BigInt64Array.from(values, BigInt),
    });
    return `${p}.const.${name}`;
  };
  const isGemm = n.op === 'Gemm';
  let x = node('codes', 'Cast', [l.xq], { to: int(1) });
  if (isGemm) x = node('codes4d', 'Reshape', [x, i64('shape4d', [0, c, 1, 1])]);
  const pads = isGemm ? [0, 0, 0, 0] : attrInts(n, 'pads', [0, 0, 0, 0]);
  // MLAS pads with the activation's zero point, so a padded tap is code xZero, not 0.
  if (pads.some((v) => v > 0))
    x = node('padded', 'Pad', [
      x,
      i64('pads', [0, 0, pads[0]!, pads[1]!, 0, 0, pads[2]!, pads[3]!]),
      f32('pad_value', [], Float32Array.of(l.xZero)),
    ]);
  const strides = isGemm ? [1, 1] : attrInts(n, 'strides', [1, 1]);
  const dilations = isGemm ? [1, 1] : attrInts(n, 'dilations', [1, 1]);
  const lo = f32('lo', [], Float32Array.of(-32768));
  const hi = f32('hi', [], Float32Array.of(32767));
  const minus = f32('minus', [], Float32Array.of(-1));
  const perOutput = taps * oh * ow;
  const groupsPerChunk = Math.max(1, Math.floor(limit / perOutput));
  const sums: string[] = [];
  chunks(risky.groups, groupsPerChunk).forEach((js, a) => {
    const outsPerChunk = Math.max(1, Math.floor(limit / (perOutput * js.length)));
    chunks(risky.outputs, outsPerChunk).forEach((os, b) => {
      const id = `${a}_${b}`;
      // The chunk's input channels (2j, 2j+1), picked by a 1x1 conv of zeros and ones (exact).
      const pick = new Float32Array(2 * js.length * c);
      js.forEach((j, k) => {
        pick[2 * k * c + 2 * j] = 1;
        pick[(2 * k + 1) * c + 2 * j + 1] = 1;
      });
      const picked =
        js.length === c / 2 ? x : node(`pick${id}`, 'Conv', [x, f32(`pick${id}`, [2 * js.length, c, 1, 1], pick)]);
      // One output per (pair, output channel, tap): the tap's two codes times the pair's two weights.
      const w = new Float32Array(js.length * os.length * taps * 2 * taps);
      for (const [g, j] of js.entries())
        for (const [q, ch] of os.entries())
          for (let t = 0; t < taps; t++) {
            const row = ((g * os.length + q) * taps + t) * 2 * taps;
            w[row + t] = l.codes[(ch * c + 2 * j) * taps + t]!;
            w[row + taps + t] = l.codes[(ch * c + 2 * j + 1) * taps + t]!;
          }
      const pairs = node(
        `pairs${id}`,
        'Conv',
        [picked, f32(`pairs${id}`, [js.length * os.length * taps, 2, kh, kw], w)],
        {
          group: int(js.length),
          strides: ints(strides),
          dilations: ints(dilations),
          kernel_shape: ints([kh, kw]),
        },
      );
      const clipped = node(`clip${id}`, 'Clip', [pairs, lo, hi]);
      const lost = node(`lost${id}`, 'Add', [clipped, node(`neg${id}`, 'Mul', [pairs, minus])]);
      const split = node(`split${id}`, 'Reshape', [lost, i64(`split${id}`, [0, js.length, os.length, taps, oh * ow])]);
      const mean = node(`mean${id}`, 'ReduceMean', [split], { axes: ints([1, 3]), keepdims: int(0) });
      const sum = node(`sum${id}`, 'Mul', [mean, f32(`count${id}`, [], Float32Array.of(js.length * taps))]);
      const image = node(`image${id}`, 'Reshape', [sum, i64(`image${id}`, [0, os.length, oh, ow])]);
      // Back to the layer's output channels (a 1x1 conv of zeros and ones), scaled to real values.
      const scatter = new Float32Array(o * os.length);
      os.forEach((ch, q) => {
        scatter[ch * os.length + q] = l.xScale * l.weightScales[ch]!;
      });
      sums.push(node(`scatter${id}`, 'Conv', [image, f32(`scatter${id}`, [o, os.length, 1, 1], scatter)]));
    });
  });
  let total = sums[0]!;
  for (const [k, s] of sums.slice(1).entries()) total = node(`total${k}`, 'Add', [total, s]);
  if (isGemm) total = node('flat', 'Reshape', [total, i64('flat', [0, o])]);
  nodes.push({
    name: `${p}.apply`,
    op: 'Add',
    inputs: [`${n.outputs[0]}.exact`, total],
    outputs: [n.outputs[0]!],
    attrs: {},
  });
  return nodes;
}
