import type { Graph } from '../../ir/graph.js';
import { type Node, attrFloat, attrInt } from '../../ir/node.js';
import { producers } from '../pass.js';

/**
 * The parts `keepFloat` can name: the classifier (nodes after the last GlobalAveragePool), squeeze-excite (outputs
 * 1x1 before it, and their gating Muls), the stem with the first block after it (see `KeepFloat.stem`), and
 * attention (MatMuls and Softmaxes).
 */
export function regions(graph: Graph): {
  classifier: Set<string>;
  squeezeExcite: Set<string>;
  stem: Set<string>;
  attention: Set<string>;
} {
  const types = new Map([...graph.values, ...graph.outputs].map((v) => [v.name, v.type]));
  const lastPool = graph.nodes.map((n) => n.op).lastIndexOf('GlobalAveragePool');
  const classifier = new Set(graph.nodes.slice(lastPool + 1).map((n) => n.name));
  const squeezeExcite = new Set<string>();
  const pooled = (name: string) => {
    const s = types.get(name)?.shape;
    return s?.length === 4 && s[2] === 1 && s[3] === 1;
  };
  graph.nodes.slice(0, lastPool).forEach((n) => {
    if (pooled(n.outputs[0]!) || (n.op === 'Mul' && n.inputs.some(pooled))) squeezeExcite.add(n.name);
  });
  const first = graph.nodes.find((n) => n.op === 'Conv' && graph.inputs.some((i) => i.name === n.inputs[0]));
  const next =
    first &&
    graph.nodes.filter((n) => n.inputs[0] === first.outputs[0] && ['Relu', 'Clip', 'HardSwish'].includes(n.op));
  const stem = new Set(first ? [first.name, ...(next?.length === 1 ? [next[0]!.name] : [])] : []);
  // The first block: from the depthwise conv that reads the stem's output up to the first 1x1 conv that widens
  // (the next block's expansion; not squeeze-excite's), or the next depthwise conv, whichever comes first.
  const stemOut = next?.length === 1 ? next[0]!.outputs[0] : first?.outputs[0];
  const dw = graph.nodes.findIndex((n) => n.op === 'Conv' && n.inputs[0] === stemOut && attrInt(n, 'group', 1) > 1);
  const dims = new Map(graph.initializers.map((i) => [i.name, i.dims]));
  const ends = (n: Node) => {
    const w = n.op === 'Conv' ? dims.get(n.inputs[1]!) : undefined;
    return !!w && (attrInt(n, 'group', 1) > 1 || (w[2] === 1 && w[0]! > w[1]!));
  };
  if (dw >= 0) {
    const end = graph.nodes.findIndex((n, i) => i > dw && ends(n) && !squeezeExcite.has(n.name));
    for (const n of graph.nodes.slice(dw, end < 0 ? dw + 1 : end)) stem.add(n.name);
  }
  // Attention: the only MatMuls and Softmaxes in these networks are the hybrids' query-key and attention-value
  // products and the softmax between them.
  const attention = new Set(graph.nodes.filter((n) => n.op === 'MatMul' || n.op === 'Softmax').map((n) => n.name));
  return { classifier, squeezeExcite, stem, attention };
}

/**
 * HardSigmoid gates that read a quantized Conv's output, and nothing else does (squeeze-excite's second 1x1 conv):
 * HardSigmoid(z) = alpha * clip(z + beta/alpha, 0, 1/alpha), so the shift goes into the conv's bias and the clip
 * is the saturation of the conv's own QuantizeLinear. Saves a QLinearAdd per gate. By the conv's output name.
 */
export function shiftedGates(
  g: Graph,
  quantized: (n: Node) => boolean,
  wanted: ReadonlySet<string>,
): Map<string, { conv: Node; gate: Node; alpha: number; beta: number }> {
  const from = producers(g);
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const biases = new Set(g.initializers.map((i) => i.name));
  const outputs = new Set(g.outputs.map((o) => o.name));
  const found = new Map<string, { conv: Node; gate: Node; alpha: number; beta: number }>();
  for (const gate of g.nodes) {
    const z = gate.inputs[0]!;
    const conv = from.get(z);
    if (
      gate.op !== 'HardSigmoid' ||
      !quantized(gate) ||
      !wanted.has(gate.outputs[0]!) ||
      conv?.op !== 'Conv' ||
      !quantized(conv) ||
      !biases.has(conv.inputs[2] ?? '') ||
      readers.get(z) !== 1 ||
      outputs.has(z)
    )
      continue;
    found.set(z, { conv, gate, alpha: attrFloat(gate, 'alpha', 0.2), beta: attrFloat(gate, 'beta', 0.5) });
  }
  return found;
}
