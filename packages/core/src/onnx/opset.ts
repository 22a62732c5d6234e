import { GraphError } from '../ir/errors.js';
import { nodeWhere } from '../ir/graph.js';
import { type Node, ints } from '../ir/node.js';
import type { Initializer } from '../ir/tensor.js';

export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;

/** ONNX IR version that came with each opset (onnx 1.8 ... 1.16). */
const IR_VERSION: Readonly<Record<number, number>> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

export function irVersionFor(opset: number): number {
  const v = IR_VERSION[opset];
  if (v === undefined)
    throw new GraphError('opset', 'option opset', `an integer from ${MIN_OPSET} to ${MAX_OPSET}`, `${opset}`);
  return v;
}

/** The inverse of the ReduceMean rewrite (passes/lower-opset.ts), for the reader: axes given as a constant input become the attribute. */
export function raiseReduceMean(node: Node, constant: (name: string) => Initializer | undefined): Node {
  if (node.op !== 'ReduceMean' || node.inputs.length < 2) return node;
  const axes = constant(node.inputs[1]!);
  if (!axes?.data)
    throw new GraphError(
      'unsupported',
      nodeWhere(node),
      'axes given as a constant',
      `computed axes '${node.inputs[1]}'`,
    );
  return {
    ...node,
    inputs: [node.inputs[0]!],
    attrs: { ...node.attrs, axes: ints(Array.from(axes.data as BigInt64Array, Number)) },
  };
}
