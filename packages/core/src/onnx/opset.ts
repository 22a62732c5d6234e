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
 * Gelu arrived in opset 20. Below it, the arithmetic PyTorch exports: exact x * (1 + erf(x / sqrt 2)) / 2, or for
 * approximate='tanh' x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2. Constants are shared initializers.
 */
function lowerGelu(n: Node, extra: Initializer[]): Node[] {
  const c = (name: string, value: number): string => {
    if (!extra.some((i) => i.name === name)) extra.push({ name, dtype: 'float32', dims: [], data: Float32Array.of(value) });
    return name;
  };
  const [x, y] = [n.inputs[0]!, n.outputs[0]!];
  const op = (suffix: string, kind: string, inputs: string[]): Node => ({ name: `${n.name}.${suffix}`, op: kind, inputs, outputs: [`${y}.${suffix}`], attrs: {} });
  const approximate = n.attrs.approximate?.kind === 'string' ? n.attrs.approximate.value : 'none';
  // Constants sit in Add, Div and Mul's first input (never as Mul's second input, which the op table reads as a learned scale).
  const inner: Node[] = approximate === 'tanh'
    ? [op('sq', 'Mul', [x, x]), op('cube', 'Mul', [`${y}.sq`, x]), op('cubek', 'Div', [`${y}.cube`, c('gelu.inv_0.044715', 1 / 0.044715)]),
      op('poly', 'Add', [x, `${y}.cubek`]), op('scaled', 'Div', [`${y}.poly`, c('gelu.sqrt_pi_2', Math.sqrt(Math.PI / 2))]), op('f', 'Tanh', [`${y}.scaled`])]
    : [op('scaled', 'Div', [x, c('gelu.sqrt2', Math.SQRT2)]), op('f', 'Erf', [`${y}.scaled`])];
  return [
    ...inner,
    op('onep', 'Add', [`${y}.f`, c('gelu.one', 1)]),
    op('xm', 'Mul', [x, `${y}.onep`]),
    // A Mul by 0.5, not a Div by 2 (the same value): onnxruntime fuses Div, Erf, Add, Mul, Mul(0.5), as torch.onnx
    // writes it, into one Gelu kernel, and leaves a Div ending as five elementwise passes (Hybrid-L ran 1.2-1.3x slower).
    { name: n.name, op: 'Mul', inputs: [c('gelu.half', 0.5), `${y}.xm`], outputs: n.outputs, attrs: {} },
  ];
}

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
    if (node.op === 'Gelu' && opset < 20) {
      nodes.push(...lowerGelu(node, extra));
    } else if (lowering && opset < lowering.below) {
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
