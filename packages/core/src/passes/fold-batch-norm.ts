import { type Graph, checkGraph } from '../ir/graph.js';
import { attrFloat, type Node } from '../ir/node.js';
import type { Initializer } from '../ir/tensor.js';
import type { Pass } from './pass.js';

/**
 * Folds every BatchNormalization that follows a Conv (whose output nothing else reads) into that Conv:
 * W' = W * g / sqrt(v + eps) per output channel, b' = (b - m) * g / sqrt(v + eps) + beta. The Conv keeps its name
 * and takes the BN's output name; the BN and its four tensors go. Inference-only: the result has no BN to train.
 */
export const foldBatchNorm: Pass = (graph: Graph): Graph => {
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const producer = new Map(graph.nodes.map((n) => [n.outputs[0]!, n]));
  const replaced = new Map<string, Node>();
  const dropped = new Set<string>();
  const swapped = new Map<string, Initializer[]>();
  for (const bn of graph.nodes) {
    if (bn.op !== 'BatchNormalization') continue;
    const conv = producer.get(bn.inputs[0]!);
    if (conv?.op !== 'Conv' || consumers.get(conv.outputs[0]!) !== 1) continue;
    const [g, beta, mean, v] = bn.inputs.slice(1).map((n) => inits.get(n)?.data as Float32Array | undefined);
    const w = inits.get(conv.inputs[1]!);
    if (!g || !beta || !mean || !v || !(w?.data instanceof Float32Array)) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const out = w.dims[0]!;
    const per = w.data.length / out;
    const oldBias = conv.inputs[2] ? (inits.get(conv.inputs[2])?.data as Float32Array) : undefined;
    const weight = new Float32Array(w.data.length);
    const bias = new Float32Array(out);
    for (let c = 0; c < out; c++) {
      const s = g[c]! / Math.sqrt(v[c]! + eps);
      for (let k = 0; k < per; k++) weight[c * per + k] = w.data[c * per + k]! * s;
      bias[c] = ((oldBias?.[c] ?? 0) - mean[c]!) * s + beta[c]!;
    }
    const biasName = conv.inputs[2] ?? `${conv.name}.bias`;
    const b: Initializer = { name: biasName, dtype: 'float32', dims: [out], data: bias };
    // The folded weight takes the old one's place, with the bias right after it (or in the old bias's place).
    swapped.set(w.name, conv.inputs[2] ? [{ ...w, data: weight }] : [{ ...w, data: weight }, b]);
    if (conv.inputs[2]) swapped.set(biasName, [b]);
    for (const n of bn.inputs.slice(1)) dropped.add(n);
    replaced.set(conv.name, { ...conv, inputs: [conv.inputs[0]!, w.name, biasName], outputs: bn.outputs });
    replaced.set(bn.name, { ...bn, op: '' });
  }
  const nodes = graph.nodes.map((n) => replaced.get(n.name) ?? n).filter((n) => n.op !== '');
  const initializers = graph.initializers.flatMap((i) => swapped.get(i.name) ?? (dropped.has(i.name) ? [] : [i]));
  return checkGraph({ ...graph, nodes, initializers, values: [] });
};
