import { GraphError } from '../ir/errors.js';
import { nodeWhere } from '../ir/graph.js';
import { type Node, float } from '../ir/node.js';
import type { Initializer } from '../ir/tensor.js';
import { type Pass, pruneInitializers, scalar, scalarConstant } from './pass.js';

/**
 * Clip(x, lo, hi) with constant bounds as HardSigmoid and an affine map:
 *   clip(x, lo, hi) = lo + (hi - lo) * max(0, min(1, x / (hi - lo) - lo / (hi - lo)))
 * so ReLU6 = 6 * HardSigmoid(x; alpha = 1/6, beta = 0). For readers that take Clip only in its opset-6 form
 * (bounds as attributes, which ONNX dropped in opset 11): OpenCV 4.6 refuses Clip with bound inputs, and Min/Max
 * with a constant input. The result differs from Clip by float rounding only (about 1 ulp of the output).
 */
export const clipAsHardSigmoid: Pass = (graph) => {
  const nodes: Node[] = [];
  const extra: Initializer[] = [];
  for (const node of graph.nodes) {
    if (node.op !== 'Clip') {
      nodes.push(node);
      continue;
    }
    const [x, loName = '', hiName = ''] = node.inputs;
    const lo = loName ? scalarConstant(graph, loName) : undefined;
    const hi = hiName ? scalarConstant(graph, hiName) : undefined;
    if (lo === undefined || hi === undefined || !(hi > lo)) {
      throw new GraphError('unsupported', nodeWhere(node), 'constant scalar bounds min < max (the only Clip this rewrite can express)', `min '${loName}', max '${hiName}'`);
    }
    const y = node.outputs[0]!;
    const range = hi - lo;
    const gate = `${y}.unit`;
    nodes.push({ name: `${node.name}.unit`, op: 'HardSigmoid', inputs: [x!], outputs: [gate], attrs: { alpha: float(1 / range), beta: float(-lo / range) } });
    // The HardSigmoid output goes first in the Mul: OpenCV fuses Mul(a, HardSigmoid(b)) into HardSwish(b) (see gate-first.ts).
    const scaled = lo === 0 ? y : `${y}.scaled`;
    extra.push(scalar(`${node.name}.range`, range));
    nodes.push({ name: lo === 0 ? node.name : `${node.name}.scale`, op: 'Mul', inputs: [gate, `${node.name}.range`], outputs: [scaled], attrs: {} });
    if (lo !== 0) {
      extra.push(scalar(`${node.name}.min`, lo));
      nodes.push({ name: node.name, op: 'Add', inputs: [scaled, `${node.name}.min`], outputs: [y], attrs: {} });
    }
  }
  return pruneInitializers({ ...graph, nodes }, extra);
};

