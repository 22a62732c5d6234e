import { type Graph, checkGraph } from '../../ir/graph.js';
import { type Node, attrInt, int } from '../../ir/node.js';
import type { Initializer } from '../../ir/tensor.js';

/** Ops that keep the channel dimension as it is: a zero channel stays a zero channel through them. */
const CHANNELWISE = new Set(['Relu', 'Clip', 'HardSwish', 'HardSigmoid', 'Sigmoid', 'GlobalAveragePool', 'Mul', 'Add']);

const isDepthwise = (n: Node, dims: Map<string, readonly number[]>): boolean => {
  const w = n.op === 'Conv' ? dims.get(n.inputs[1]!) : undefined;
  return !!w && w.length === 4 && w[1] === 1 && attrInt(n, 'group', 1) === w[0] && w[0]! > 1;
};

/** A group of tensors that share one channel dimension, and the convs that write, read and filter it. */
interface ChannelGroup {
  readonly channels: number;
  readonly writers: Set<Node>; // ordinary convs that produce one of the tensors: more output channels
  readonly readers: Set<Node>; // ordinary convs that read one: more input channels, with zero weights
  readonly depthwise: Set<Node>;
}

/**
 * The tensors around a depthwise conv that share its channels: across the activations, the squeeze-excite branch
 * (pool, 1x1 convs, gate, Mul) and residual-free elementwise ops, up to the ordinary convs that write and read them.
 * Undefined when the group reaches something it cannot pad exactly (a graph input or output, a Flatten, a constant
 * operand, another channel count).
 */
function channelGroup(graph: Graph, start: Node, dims: Map<string, readonly number[]>): ChannelGroup | undefined {
  const channels = dims.get(start.inputs[1]!)![0]!;
  const from = new Map<string, Node>();
  const readers = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) from.set(o, n);
    for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  }
  const inits = new Set(graph.initializers.map((i) => i.name));
  const ends = new Set([...graph.inputs, ...graph.outputs].map((v) => v.name));
  const types = new Map(graph.values.map((v) => [v.name, v.type.shape]));
  const g: ChannelGroup = { channels, writers: new Set(), readers: new Set(), depthwise: new Set() };
  const seen = new Set<string>();
  const queue = [start.inputs[0]!];
  // Each channelwise node joins all its activation inputs and its output into the group.
  const join = (n: Node): boolean => {
    if (n.op === 'Conv') {
      g.depthwise.add(n);
      queue.push(n.inputs[0]!, n.outputs[0]!);
      return true;
    }
    if (n.inputs.some((i, k) => inits.has(i) && !(n.op === 'Clip' && k > 0))) return false;
    queue.push(...(n.op === 'Clip' ? n.inputs.slice(0, 1) : n.inputs), n.outputs[0]!);
    return true;
  };
  while (queue.length) {
    const t = queue.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (ends.has(t) || types.get(t)?.[1] !== channels) return undefined;
    const p = from.get(t);
    if (!p) return undefined;
    if (isDepthwise(p, dims) || CHANNELWISE.has(p.op)) {
      if (!join(p)) return undefined;
    } else if (p.op === 'Conv' && attrInt(p, 'group', 1) === 1) g.writers.add(p);
    else return undefined;
    for (const r of readers.get(t) ?? []) {
      if (isDepthwise(r, dims) || CHANNELWISE.has(r.op)) {
        if (!join(r)) return undefined;
      } else if (r.op === 'Conv' && attrInt(r, 'group', 1) === 1 && r.inputs[0] === t) g.readers.add(r);
      else return undefined;
    }
  }
  return g;
}

/** `data` laid out as [outer, inner] padded to [outer', inner'] with zeros. */
function pad(init: Initializer, outer: number, inner: number, outerTo: number, innerTo: number): Initializer {
  const src = init.data as Float32Array;
  const rest = src.length / (outer * inner);
  const data = new Float32Array(outerTo * innerTo * rest);
  for (let o = 0; o < outer; o++) data.set(src.subarray(o * inner * rest, (o + 1) * inner * rest), o * innerTo * rest);
  const dims =
    init.dims.length === 1
      ? [outerTo]
      : inner === 1 && innerTo === 1
        ? [outerTo, ...init.dims.slice(1)]
        : [outerTo, innerTo, ...init.dims.slice(2)];
  return { ...init, dims, data };
}

/**
 * Pads the channels of depthwise convs to a multiple of `multiple`, with zero channels: the convs that write them
 * get zero output filters (zero bias), the depthwise conv zero filters, the convs that read them zero input weights.
 * The function is unchanged (padded channels are exactly 0 all the way through, and 0 is in every quantized range).
 * Why: onnxruntime's fast quantized depthwise kernel (MLAS's symmetric "ConvSym" path, VNNI on AVX-512) takes only
 * channel counts that are multiples of 16; others fall back to a generic 16-bit kernel, 3-4x slower (measured in
 * docs/precision.md). Float graphs only, after BatchNorm folding.
 */
export function padDepthwiseChannels(graph: Graph, multiple = 16): Graph {
  const typed = checkGraph(graph);
  const dims = new Map(typed.initializers.map((i) => [i.name, i.dims]));
  const groups: ChannelGroup[] = [];
  const done = new Set<Node>();
  for (const n of typed.nodes) {
    if (!isDepthwise(n, dims) || done.has(n) || dims.get(n.inputs[1]!)![0]! % multiple === 0) continue;
    const g = channelGroup(typed, n, dims);
    if (!g) continue;
    for (const d of g.depthwise) done.add(d);
    groups.push(g);
  }
  if (!groups.length) return typed;
  const inits = new Map(typed.initializers.map((i) => [i.name, i]));
  const attrs = new Map<Node, Node['attrs']>();
  for (const g of groups) {
    const to = Math.ceil(g.channels / multiple) * multiple;
    const outputs = (n: Node) => {
      const [w, b] = [inits.get(n.inputs[1]!)!, n.inputs[2] ? inits.get(n.inputs[2])! : undefined];
      inits.set(w.name, pad(w, g.channels, 1, to, 1));
      if (b) inits.set(b.name, pad(b, g.channels, 1, to, 1));
    };
    for (const n of g.writers) outputs(n);
    for (const n of g.depthwise) {
      outputs(n);
      attrs.set(n, { ...n.attrs, group: int(to) });
    }
    for (const n of g.readers) {
      const w = inits.get(n.inputs[1]!)!;
      inits.set(w.name, pad(w, w.dims[0]!, g.channels, w.dims[0]!, to));
    }
  }
  const initializers = typed.initializers.map((i) => inits.get(i.name)!);
  const nodes = typed.nodes.map((n) => (attrs.has(n) ? { ...n, attrs: attrs.get(n)! } : n));
  return checkGraph({ ...typed, nodes, initializers, values: [] });
}
