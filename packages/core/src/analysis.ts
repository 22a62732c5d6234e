import type { Graph } from './ir/graph.js';
import { OPS } from './ir/ops.js';
import { type Shape, type TensorType, numel } from './ir/tensor.js';

export interface LayerStats {
  readonly name: string;
  readonly op: string;
  readonly outputShape: Shape;
  /** Trainable parameters this node owns: conv/linear weights and biases, BN gamma and beta. */
  readonly params: number;
  /** BN running statistics: stored, not trained. */
  readonly buffers: number;
  /** Multiply-accumulates of conv and fully-connected layers (SE's 1x1 convs included), batch counted as 1. */
  readonly macs: number;
}

export interface Analysis {
  readonly layers: readonly LayerStats[];
  readonly params: number;
  readonly buffers: number;
  readonly macs: number;
}

/** Per-layer MACs and parameters, counted the way the MobileNet papers count them. */
export function analyze(graph: Graph): Analysis {
  const types = new Map<string, TensorType>();
  for (const v of [...graph.inputs, ...graph.values, ...graph.outputs]) types.set(v.name, v.type);
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  for (const i of graph.initializers) types.set(i.name, { dtype: i.dtype, shape: i.dims });
  const counted = new Set<string>();
  const layers = graph.nodes.map((node): LayerStats => {
    const spec = OPS[node.op]!;
    let params = 0;
    let buffers = 0;
    node.inputs.forEach((name, i) => {
      const role = spec.roles?.[i];
      const init = inits.get(name);
      if (!init || !role || role === 'const' || role === 'scale' || role === 'zero-point' || counted.has(name)) return;
      counted.add(name);
      if (role === 'stat') buffers += numel(init.dims);
      else params += numel(init.dims);
    });
    const ins = node.inputs.map((n) => types.get(n)!);
    const outs = node.outputs.map((n) => types.get(n)!);
    const macs = spec.macs ? spec.macs(ins, outs, node) / batchOf(outs[0]!.shape) : 0;
    return { name: node.name, op: node.op, outputShape: outs[0]!.shape, params, buffers, macs };
  });
  const sum = (k: 'params' | 'buffers' | 'macs') => layers.reduce((a, l) => a + l[k], 0);
  return { layers, params: sum('params'), buffers: sum('buffers'), macs: sum('macs') };
}

/** MACs are reported per image: a fixed batch divides out, a symbolic one counts as 1. */
function batchOf(shape: Shape): number {
  const b = shape[0];
  return typeof b === 'number' && b > 0 ? b : 1;
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** An aligned text table of the layers and totals, as `mobilenet info` prints it. */
export function formatAnalysis(a: Analysis, opts: { all?: boolean } = {}): string {
  const rows = a.layers.filter((l) => opts.all || l.params > 0 || l.macs > 0);
  const cells = rows.map((l) => [l.name, l.op, `[${l.outputShape.join(', ')}]`, fmtInt(l.params), fmtInt(l.macs)]);
  const head = ['layer', 'op', 'output shape', 'params', 'MACs'];
  const total = ['total', '', '', fmtInt(a.params), fmtInt(a.macs)];
  const widths = head.map((h, i) => Math.max(h.length, ...[...cells, total].map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...cells.map(line), rule, line(total)].join('\n');
}

/** One line per node (op, name, output shape): the golden dump kept as a snapshot per model. */
export function dumpGraph(graph: Graph): string {
  const types = new Map([...graph.values, ...graph.outputs].map((v) => [v.name, v.type.shape]));
  const lines = graph.nodes.map((n) => `${n.op} ${n.name} -> [${(types.get(n.outputs[0]!) ?? []).join(', ')}]`);
  const io = (vs: Graph['inputs']) => vs.map((v) => `${v.name} [${v.type.shape.join(', ')}]`).join(', ');
  return [`graph ${graph.name}`, `inputs ${io(graph.inputs)}`, `outputs ${io(graph.outputs)}`, ...lines, ''].join('\n');
}
