import type { Graph } from '../../ir/graph.js';
import { checkGraph } from '../../ir/graph.js';

/**
 * The calibration pass: the same graph with every float activation (the input and each node's output) also a
 * graph output, so that a runtime can record the values `quantize` needs ranges for. Returns the graph and the
 * names of the observed tensors (the graph's inputs and outputs included).
 */
export function observeActivations(graph: Graph): { graph: Graph; tensors: string[] } {
  const typed = checkGraph(graph);
  const outputs = new Set(typed.outputs.map((o) => o.name));
  const extra = typed.values.filter((v) => v.type.dtype === 'float32' && !outputs.has(v.name));
  const inputs = typed.inputs.filter((v) => v.type.dtype === 'float32');
  const observed = { ...typed, outputs: [...typed.outputs, ...extra], values: [] };
  return { graph: checkGraph(observed), tensors: [...inputs, ...typed.outputs, ...extra].map((v) => v.name) };
}
