import { GraphError } from '../ir/errors.js';
import { checkGraph, nodeWhere } from '../ir/graph.js';
import { type Node, float } from '../ir/node.js';
import { OPS } from '../ir/ops.js';
import type { DType, Initializer } from '../ir/tensor.js';
import { toHalfBits } from './float16.js';
import type { Pass } from './pass.js';

/** A rewrite of one node into the forms of an older or newer opset; `extra` collects the constants it adds. */
interface Lowering {
  readonly applies: (opset: number) => boolean;
  readonly rewrite: (node: Node, extra: Initializer[], dtypeOf: (tensor: string) => DType) => Node[];
}

/** HardSwish arrived in opset 14. Below it: x * HardSigmoid(x; alpha = 1/6, beta = 0.5), as PyTorch exports it. */
const hardSwish: Lowering = {
  applies: (opset) => opset < 14,
  rewrite: (n): Node[] => [
    {
      name: `${n.name}.hardsigmoid`,
      op: 'HardSigmoid',
      inputs: [n.inputs[0]!],
      outputs: [`${n.outputs[0]}.hardsigmoid`],
      attrs: { alpha: float(1 / 6), beta: float(0.5) },
    },
    { name: n.name, op: 'Mul', inputs: [n.inputs[0]!, `${n.outputs[0]}.hardsigmoid`], outputs: n.outputs, attrs: {} },
  ],
};

/**
 * Gelu arrived in opset 20. Below it, the arithmetic PyTorch exports: exact x * (1 + erf(x / sqrt 2)) / 2, or for
 * approximate='tanh' x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2. Constants are shared initializers
 * of x's dtype (a float16 graph's Gelu needs float16 constants: Div and Mul take one type).
 */
const gelu: Lowering = {
  applies: (opset) => opset < 20,
  rewrite: (n, extra, dtypeOf) => {
    const dtype = dtypeOf(n.inputs[0]!);
    const c = (base: string, value: number): string => {
      const name = dtype === 'float16' ? `${base}.fp16` : base;
      if (!extra.some((i) => i.name === name))
        extra.push(
          dtype === 'float16'
            ? { name, dtype, dims: [], data: Uint16Array.of(toHalfBits(value)) }
            : { name, dtype: 'float32', dims: [], data: Float32Array.of(value) },
        );
      return name;
    };
    const [x, y] = [n.inputs[0]!, n.outputs[0]!];
    const op = (suffix: string, kind: string, inputs: string[]): Node => ({
      name: `${n.name}.${suffix}`,
      op: kind,
      inputs,
      outputs: [`${y}.${suffix}`],
      attrs: {},
    });
    const approximate = n.attrs.approximate?.kind === 'string' ? n.attrs.approximate.value : 'none';
    // Constants sit in Add, Div and Mul's first input (never as Mul's second input, which the op table reads as a learned scale).
    const inner: Node[] =
      approximate === 'tanh'
        ? [
            op('sq', 'Mul', [x, x]),
            op('cube', 'Mul', [`${y}.sq`, x]),
            op('cubek', 'Div', [`${y}.cube`, c('gelu.inv_0.044715', 1 / 0.044715)]),
            op('poly', 'Add', [x, `${y}.cubek`]),
            op('scaled', 'Div', [`${y}.poly`, c('gelu.sqrt_pi_2', Math.sqrt(Math.PI / 2))]),
            op('f', 'Tanh', [`${y}.scaled`]),
          ]
        : [op('scaled', 'Div', [x, c('gelu.sqrt2', Math.SQRT2)]), op('f', 'Erf', [`${y}.scaled`])];
    return [
      ...inner,
      op('onep', 'Add', [`${y}.f`, c('gelu.one', 1)]),
      op('xm', 'Mul', [x, `${y}.onep`]),
      // A Mul by 0.5, not a Div by 2 (the same value): onnxruntime fuses Div, Erf, Add, Mul, Mul(0.5), as torch.onnx
      // writes it, into one Gelu kernel, and leaves a Div ending as five elementwise passes (Hybrid-L ran 1.2-1.3x slower).
      { name: n.name, op: 'Mul', inputs: [c('gelu.half', 0.5), `${y}.xm`], outputs: n.outputs, attrs: {} },
    ];
  },
};

/** From opset 18 ReduceMean takes its axes as an input instead of an attribute. */
const reduceMeanAxes: Lowering = {
  applies: (opset) => opset >= 18,
  rewrite: (node, extra) => {
    const { axes, ...attrs } = node.attrs;
    if (!axes) return [node];
    const values = axes.kind === 'ints' ? axes.value : [];
    const name = `${node.name}.axes`;
    extra.push({ name, dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return [{ ...node, inputs: [...node.inputs, name], attrs }];
  },
};

/** Rewrites before the opset check (ops the opset lacks) and after it (forms the opset changed), by op. */
const LOWER: Readonly<Record<string, Lowering>> = { HardSwish: hardSwish, Gelu: gelu };
const RESHAPE: Readonly<Record<string, Lowering>> = { ReduceMean: reduceMeanAxes };

/**
 * The pass that rewrites a graph into the forms of one opset: lowers ops that the opset lacks (HardSwish below 14,
 * Gelu below 20) and moves ReduceMean's axes from an attribute into an input from opset 18. The pass throws,
 * naming the node, when an op cannot be expressed in the opset. The writer applies it for the requested opset.
 */
export function lowerToOpset(opset: number): Pass {
  return (graph) => {
    const nodes: Node[] = [];
    const extra: Initializer[] = [];
    let dtypes: Map<string, DType> | undefined; // of every tensor, inferred only when a node is rewritten
    const dtypeOf = (t: string): DType => {
      if (!dtypes) {
        const g = checkGraph(graph);
        dtypes = new Map([...g.inputs, ...g.values, ...g.outputs].map((v) => [v.name, v.type.dtype]));
        for (const i of g.initializers) dtypes.set(i.name, i.dtype);
      }
      return dtypes.get(t) ?? 'float32';
    };
    for (const node of graph.nodes) {
      const lower = LOWER[node.op];
      const reshape = RESHAPE[node.op];
      if (lower?.applies(opset)) nodes.push(...lower.rewrite(node, extra, dtypeOf));
      else if (OPS[node.op]!.since > opset)
        throw new GraphError(
          'opset',
          nodeWhere(node),
          `opset >= ${OPS[node.op]!.since} for ${node.op}`,
          `opset ${opset}`,
        );
      else if (reshape?.applies(opset)) nodes.push(...reshape.rewrite(node, extra, dtypeOf));
      else nodes.push(node);
    }
    return { ...graph, nodes, initializers: [...graph.initializers, ...extra] };
  };
}
