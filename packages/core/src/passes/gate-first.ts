import type { Node } from '../ir/node.js';
import { type Pass, producers } from './pass.js';

/**
 * Mul(x, HardSigmoid(s)) as Mul(HardSigmoid(s), x): the same product, operands swapped.
 *
 * OpenCV 4.6's ONNX importer fuses a Mul whose second input is a HardSigmoid into a HardSwish of the
 * HardSigmoid's input, without checking that the Mul's other input is that same tensor. A squeeze-excite gate
 * x * hardsigmoid(fc(pool(x))) then becomes hardswish(fc(pool(x))), of shape [N, C, 1, 1]: wrong logits, or a
 * later stride-2 conv with a 0x0 output. With the gate as the first operand the pattern does not match. A true
 * h-swish, Mul(x, HardSigmoid(x)), is left as it is: the fusion is right for it.
 */
export const gateFirst: Pass = (graph) => {
  const from = producers(graph);
  const nodes = graph.nodes.map((node): Node => {
    if (node.op !== 'Mul') return node;
    const [a, b] = node.inputs as [string, string];
    const gate = from.get(b);
    if (gate?.op !== 'HardSigmoid' || gate.inputs[0] === a) return node;
    return { ...node, inputs: [b, a] };
  });
  return { ...graph, nodes };
};
