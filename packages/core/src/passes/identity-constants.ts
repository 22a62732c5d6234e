import type { Node } from '../ir/node.js';
import type { Initializer } from '../ir/tensor.js';
import { type Pass, pruneInitializers } from './pass.js';

/**
 * Identity(initializer) as a second initializer under the output's name. OpenCV 4.6 refuses an Identity node
 * whose input is an initializer (torch.onnx writes these when one parameter is shared or renamed).
 */
export const identityConstants: Pass = (graph) => {
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const copies: Initializer[] = [];
  const nodes = graph.nodes.filter((node: Node) => {
    const source = node.op === 'Identity' ? inits.get(node.inputs[0]!) : undefined;
    if (!source) return true;
    copies.push({ ...source, name: node.outputs[0]! });
    return false;
  });
  return pruneInitializers({ ...graph, nodes }, copies);
};
