import { GraphError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { clipAsHardSigmoid } from '../passes/clip-as-hard-sigmoid.js';
import { gateFirst } from '../passes/gate-first.js';
import { identityConstants } from '../passes/identity-constants.js';
import type { Pass } from '../passes/pass.js';

/**
 * Who will read the file. Every target writes valid ONNX that onnxruntime computes the same; a target other
 * than 'onnxruntime' also rewrites the forms that reader is known to refuse or mis-compute (docs/elsewhere.md).
 */
export type Target = 'onnxruntime' | 'opencv';
export const TARGETS: readonly Target[] = ['onnxruntime', 'opencv'];

const PASSES: Readonly<Record<Target, readonly Pass[]>> = {
  onnxruntime: [],
  // OpenCV 4.6 DNN (Debian 12, Ubuntu 22.04/24.04): no Clip with bound inputs, a wrong HardSigmoid+Mul fusion,
  // no Identity on an initializer. TF 'SAME' (asymmetric) conv pads, HardSwish and HardSigmoid it reads right.
  opencv: [clipAsHardSigmoid, gateFirst, identityConstants],
};

/** Rewrites a graph for a target's reader; the identity for 'onnxruntime'. */
export function lowerForTarget(graph: Graph, target: Target): Graph {
  const passes = PASSES[target];
  if (!passes) throw new GraphError('target', 'option target', `one of ${TARGETS.join(', ')}`, `'${target}'`);
  return passes.reduce((g, pass) => pass(g), graph);
}
