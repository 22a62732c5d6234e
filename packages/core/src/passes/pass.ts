import type { Graph } from '../ir/graph.js';
import type { Node } from '../ir/node.js';
import type { Initializer } from '../ir/tensor.js';

/**
 * A rewrite of a graph into an equivalent one. A pass returns a new graph (the input is not changed); its
 * `values` may be stale: the writer re-types the whole graph with `checkGraph` before serializing.
 */
export type Pass = (graph: Graph) => Graph;

/** The constant value of a scalar float initializer, or undefined when `name` is not one. */
export function scalarConstant(graph: Graph, name: string): number | undefined {
  const init = graph.initializers.find((i) => i.name === name);
  if (!init?.data || init.dtype !== 'float32' || init.data.length !== 1) return undefined;
  return (init.data as Float32Array)[0];
}

/** Which node produces each value. */
export function producers(graph: Graph): Map<string, Node> {
  const map = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) map.set(o, n);
  return map;
}

/** Drops initializers that no node and no graph output reads any more (left behind by a rewrite). */
export function pruneInitializers(graph: Graph, keep: readonly Initializer[] = []): Graph {
  const used = new Set<string>([...graph.nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
  return { ...graph, initializers: [...graph.initializers, ...keep].filter((i) => used.has(i.name)) };
}

/** A float32 scalar initializer. */
export const scalar = (name: string, value: number): Initializer => ({
  name,
  dtype: 'float32',
  dims: [],
  data: Float32Array.of(value),
});

/** Runs passes in order: one pass made of several. */
export function sequence(...passes: readonly Pass[]): Pass {
  return (graph) => passes.reduce((g, pass) => pass(g), graph);
}
