import { GraphError } from '../ir/errors.js';
import { type Graph, nodeWhere } from '../ir/graph.js';
import { type Node, float } from '../ir/node.js';
import type { Initializer } from '../ir/tensor.js';
import { type Pass, pruneInitializers, scalar, scalarConstant } from './pass.js';

/**
 * Clip(x, lo, hi) with constant bounds as HardSigmoid and an affine map:
 *   clip(x, lo, hi) = lo + (hi - lo) * max(0, min(1, x / (hi - lo) - lo / (hi - lo)))
 * so ReLU6 = 6 * HardSigmoid(x; alpha = 1/6, beta = 0). For readers that take Clip only in its opset-6 form
 * (bounds as attributes, which ONNX dropped in opset 11): OpenCV 4.6 refuses Clip with bound inputs, and Min/Max
 * with a constant input. The result differs from Clip by float rounding (about 1 ulp of each activation).
 *
 * When lo = 0 and every reader of the output is a Conv's data input whose weight no other node reads (ReLU6 in
 * MobileNet v1/v2), the factor (hi - lo) goes into those weights instead of a Mul: a separate Mul over every
 * activation made v2 1.7x slower in onnxruntime, which fuses Conv + HardSigmoid as it fuses Conv + Clip.
 */
export const clipAsHardSigmoid: Pass = (graph) => {
  const nodes: Node[] = [];
  const extra: Initializer[] = [];
  const scaled = new Map<string, number>(); // weight initializer -> factor to multiply it by
  for (const node of graph.nodes) {
    if (node.op !== 'Clip') {
      nodes.push(node);
      continue;
    }
    const [x, loName = '', hiName = ''] = node.inputs;
    const lo = loName ? scalarConstant(graph, loName) : undefined;
    const hi = hiName ? scalarConstant(graph, hiName) : undefined;
    if (lo === undefined || hi === undefined || !(hi > lo)) {
      throw new GraphError(
        'unsupported',
        nodeWhere(node),
        'constant scalar bounds min < max (the only Clip this rewrite can express)',
        `min '${loName}', max '${hiName}'`,
      );
    }
    const y = node.outputs[0]!;
    const range = hi - lo;
    const unit = {
      name: node.name,
      op: 'HardSigmoid',
      inputs: [x!],
      attrs: { alpha: float(1 / range), beta: float(-lo / range) },
    };
    const weights = lo === 0 ? foldableWeights(graph, y) : undefined;
    if (weights) {
      nodes.push({ ...unit, outputs: [y] });
      for (const w of weights) scaled.set(w, range);
      continue;
    }
    nodes.push({ ...unit, name: `${node.name}.unit`, outputs: [`${y}.unit`] });
    // The HardSigmoid output goes first in the Mul: OpenCV fuses Mul(a, HardSigmoid(b)) into HardSwish(b) (see gate-first.ts).
    const times = lo === 0 ? y : `${y}.scaled`;
    extra.push(scalar(`${node.name}.range`, range));
    nodes.push({
      name: lo === 0 ? node.name : `${node.name}.scale`,
      op: 'Mul',
      inputs: [`${y}.unit`, `${node.name}.range`],
      outputs: [times],
      attrs: {},
    });
    if (lo !== 0) {
      extra.push(scalar(`${node.name}.min`, lo));
      nodes.push({ name: node.name, op: 'Add', inputs: [times, `${node.name}.min`], outputs: [y], attrs: {} });
    }
  }
  const initializers = graph.initializers.map((init) => {
    const k = scaled.get(init.name);
    return k === undefined ? init : { ...init, data: (init.data as Float32Array).map((v) => v * k) };
  });
  return pruneInitializers({ ...graph, nodes, initializers }, extra);
};

/** The weights of the Convs that read `value`, when only such Convs read it and only they read those weights. */
function foldableWeights(graph: Graph, value: string): string[] | undefined {
  if (graph.outputs.some((o) => o.name === value)) return undefined;
  const readers = graph.nodes.filter((n) => n.inputs.includes(value));
  const weights: string[] = [];
  for (const r of readers) {
    const w = r.inputs[1];
    const init = graph.initializers.find((i) => i.name === w);
    if (r.op !== 'Conv' || r.inputs.indexOf(value) !== 0 || r.inputs.lastIndexOf(value) !== 0) return undefined;
    if (!init?.data || init.dtype !== 'float32' || graph.nodes.some((n) => n !== r && n.inputs.includes(w!)))
      return undefined;
    weights.push(w!);
  }
  return readers.length ? weights : undefined;
}
