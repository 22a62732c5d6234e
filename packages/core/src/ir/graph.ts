import { GraphError } from './errors.js';
import type { Node } from './node.js';
import { checkNode } from './ops.js';
import { type Initializer, type TensorType, type Value, formatShape, numel } from './tensor.js';

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly initializers: readonly Initializer[];
  readonly nodes: readonly Node[];
  /** Inferred type of every intermediate value, in topological order (ONNX value_info). */
  readonly values: readonly Value[];
  /** Key/value facts for consumers (preprocessing, labels, architecture), written to ONNX metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
}

export const nodeWhere = (node: Node): string => `node '${node.name}' (${node.op})`;

/** The typing context shared by the builder (one node at a time) and the checker (whole graphs). */
export class TypeScope {
  readonly types = new Map<string, TensorType>();
  readonly constants = new Map<string, Initializer>();
  private readonly nodeNames = new Set<string>();

  declare(name: string, type: TensorType, what: string): void {
    if (!name) throw new GraphError('empty-name', what, 'a non-empty value name', "''");
    if (this.types.has(name))
      throw new GraphError('duplicate-name', what, 'a value name not used before', `'${name}' (already defined)`);
    this.types.set(name, type);
  }

  addInitializer(init: Initializer): void {
    const where = `initializer '${init.name}'`;
    if (init.dims.some((d) => !Number.isInteger(d) || d < 0))
      throw new GraphError('bad-dims', where, 'non-negative integer dims', formatShape(init.dims));
    if (init.data && init.data.length !== numel(init.dims)) {
      throw new GraphError(
        'bad-data',
        where,
        `${numel(init.dims)} elements for dims ${formatShape(init.dims)}`,
        `${init.data.length}`,
      );
    }
    if (init.data instanceof Float32Array) assertFinite(init.data, where);
    this.declare(init.name, { dtype: init.dtype, shape: init.dims }, where);
    this.constants.set(init.name, init);
  }

  /** Types a node's outputs, or throws an error that names the node. */
  addNode(node: Node): TensorType[] {
    const where = nodeWhere(node);
    if (!node.name) throw new GraphError('empty-name', `a ${node.op} node`, 'a node name', "''");
    if (this.nodeNames.has(node.name))
      throw new GraphError('duplicate-name', where, 'a node name not used before', `'${node.name}'`);
    const spec = checkNode(node, where);
    const inputs = node.inputs.map((name, i) => {
      if (name === '') return undefined;
      const t = this.types.get(name);
      if (!t)
        throw new GraphError(
          'dangling-input',
          `${where} input ${i}`,
          'a graph input, initializer or earlier node output',
          `'${name}' (not defined)`,
        );
      return t;
    });
    const outs = spec.infer({ node, where, inputs, constant: (n) => this.constants.get(n) });
    if (outs.length < node.outputs.length) {
      throw new GraphError('arity', where, `${outs.length} outputs`, `${node.outputs.length}`);
    }
    this.nodeNames.add(node.name);
    node.outputs.forEach((name, i) => {
      if (name !== '' && i < outs.length) this.declare(name, outs[i]!, `${where} output ${i}`);
    });
    return outs;
  }
}

function assertFinite(data: Float32Array, where: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!))
      throw new GraphError('not-finite', where, 'finite values', `${data[i]} at flat index ${i}`);
  }
}

/**
 * Checks a whole graph: unique names, no dangling inputs, known ops with well-typed attributes, shapes that agree,
 * finite constants, declared outputs that match what the nodes produce. Returns the graph with fresh value types.
 */
export function checkGraph(graph: Graph): Graph {
  const scope = new TypeScope();
  for (const v of graph.inputs) scope.declare(v.name, v.type, `graph input '${v.name}'`);
  for (const init of graph.initializers) scope.addInitializer(init);
  const values: Value[] = [];
  for (const node of graph.nodes) {
    const outs = scope.addNode(node);
    node.outputs.forEach((name, i) => {
      if (name && outs[i]) values.push({ name, type: outs[i] });
    });
  }
  for (const out of graph.outputs) {
    const t = scope.types.get(out.name);
    if (!t)
      throw new GraphError(
        'dangling-output',
        `graph output '${out.name}'`,
        'a value produced by a node',
        'nothing produces it',
      );
    if (formatShape(t.shape) !== formatShape(out.type.shape) || t.dtype !== out.type.dtype) {
      throw new GraphError(
        'output-type',
        `graph output '${out.name}'`,
        `${t.dtype} ${formatShape(t.shape)} (inferred)`,
        `${out.type.dtype} ${formatShape(out.type.shape)}`,
      );
    }
  }
  const outputNames = new Set(graph.outputs.map((o) => o.name));
  return { ...graph, values: values.filter((v) => !outputNames.has(v.name)) };
}
