import { GraphError } from '../ir/errors.js';
import { type Graph, nodeWhere } from '../ir/graph.js';
import { type Node, float, ints } from '../ir/node.js';
import { OPS } from '../ir/ops.js';
import type { Initializer } from '../ir/tensor.js';

export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;

/** ONNX IR version that came with each opset (onnx 1.8 ... 1.16). */
const IR_VERSION: Readonly<Record<number, number>> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

export function irVersionFor(opset: number): number {
  const v = IR_VERSION[opset];
  if (v === undefined) throw new GraphError('opset', 'option opset', `an integer from ${MIN_OPSET} to ${MAX_OPSET}`, `${opset}`);
  return v;
}

/** The minimum opset a node needs as written in the IR, and whether a lower opset can take a rewrite of it. */
const LOWERINGS: Readonly<Record<string, { readonly below: number; readonly lower: (node: Node) => Node[] }>> = {
  // HardSwish arrived in opset 14. Below it: x * HardSigmoid(x; alpha = 1/6, beta = 0.5), as PyTorch exports it.
  HardSwish: {
    below: 14,
    lower: (n): Node[] => [
      { name: `${n.name}.hardsigmoid`, op: 'HardSigmoid', inputs: [n.inputs[0]!], outputs: [`${n.outputs[0]}.hardsigmoid`], attrs: { alpha: float(1 / 6), beta: float(0.5) } },
      { name: n.name, op: 'Mul', inputs: [n.inputs[0]!, `${n.outputs[0]}.hardsigmoid`], outputs: n.outputs, attrs: {} },
    ],
  },
};

/**
 * Rewrites a graph into the forms of one opset: lowers ops that the opset lacks, and moves ReduceMean's axes
 * from an attribute into an input from opset 18. Throws, naming the node, when an op cannot be expressed.
 */
export function toOpset(graph: Graph, opset: number): { graph: Graph; extra: Initializer[] } {
  irVersionFor(opset);
  const nodes: Node[] = [];
  const extra: Initializer[] = [];
  for (const node of graph.nodes) {
    const spec = OPS[node.op]!;
    const lowering = LOWERINGS[node.op];
    if (lowering && opset < lowering.below) {
      nodes.push(...lowering.lower(node));
    } else if (spec.since > opset) {
      throw new GraphError('opset', nodeWhere(node), `opset >= ${spec.since} for ${node.op}`, `opset ${opset}`);
    } else if (node.op === 'ReduceMean' && opset >= 18 && node.attrs.axes) {
      const { axes, ...attrs } = node.attrs;
      const values = axes.kind === 'ints' ? axes.value : [];
      const name = `${node.name}.axes`;
      extra.push({ name, dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
      nodes.push({ ...node, inputs: [...node.inputs, name], attrs });
    } else {
      nodes.push(node);
    }
  }
  return { graph: { ...graph, nodes }, extra };
}

/** The inverse of the ReduceMean rewrite, for the reader: axes given as a constant input become the attribute. */
export function raiseReduceMean(node: Node, constant: (name: string) => Initializer | undefined): Node {
  if (node.op !== 'ReduceMean' || node.inputs.length < 2) return node;
  const axes = constant(node.inputs[1]!);
  if (!axes?.data) throw new GraphError('unsupported', nodeWhere(node), 'axes given as a constant', `computed axes '${node.inputs[1]}'`);
  return { ...node, inputs: [node.inputs[0]!], attrs: { ...node.attrs, axes: ints(Array.from(axes.data as BigInt64Array, Number)) } };
}
