import { OPS } from '../ir/ops.js';
import { decodeModel, defaultOpset, toNumber } from './proto.js';

export interface ModelSummary {
  readonly irVersion: number;
  readonly opset: number;
  readonly producer: string;
  readonly graphName: string;
  readonly inputs: readonly { name: string; shape: (number | string)[] }[];
  readonly outputs: readonly { name: string; shape: (number | string)[] }[];
  /** Node count per op type, sorted by op name. */
  readonly ops: Readonly<Record<string, number>>;
  readonly nodeCount: number;
  readonly initializerCount: number;
  /** Elements in all initializers (and Constant nodes), whatever their role. */
  readonly constantElements: number;
  /** Ops this project cannot read into its IR (the model can still be summarized). */
  readonly unsupportedOps: readonly string[];
  /** Ops of a domain other than ONNX's own ('com.microsoft:FusedConv'), which `ops` counts by op name alone. */
  readonly foreignOps: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** A structural summary of any ONNX model, including ones with ops the IR does not support. */
export function summarizeOnnx(bytes: Uint8Array, source = 'model'): ModelSummary {
  const model = decodeModel(bytes, source);
  const g = model.graph!;
  const counts: Record<string, number> = {};
  for (const n of g.node ?? []) counts[n.opType ?? '?'] = (counts[n.opType ?? '?'] ?? 0) + 1;
  const ops = Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const numel = (dims: unknown[] | null | undefined) =>
    (dims ?? []).reduce<number>((a, d) => a * toNumber(d as number), 1);
  const io = (v: {
    name?: string | null;
    type?: {
      tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null;
    } | null;
  }) => ({
    name: v.name ?? '',
    shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
      d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue as number) : '?',
    ),
  });
  const constants = (g.node ?? [])
    .filter((n) => n.opType === 'Constant')
    .map((n) => numel(n.attribute?.find((a) => a.name === 'value')?.t?.dims));
  return {
    irVersion: toNumber(model.irVersion),
    opset: defaultOpset(model),
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    graphName: g.name ?? '',
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(io),
    outputs: (g.output ?? []).map(io),
    ops,
    nodeCount: (g.node ?? []).length,
    initializerCount: (g.initializer ?? []).length,
    constantElements:
      (g.initializer ?? []).reduce((a, t) => a + numel(t.dims), 0) + constants.reduce((a, b) => a + b, 0),
    unsupportedOps: Object.keys(ops).filter((op) => op !== 'Constant' && !Object.hasOwn(OPS, op)),
    foreignOps: [
      ...new Set(
        (g.node ?? []).filter((n) => n.domain && n.domain !== 'ai.onnx').map((n) => `${n.domain}:${n.opType ?? '?'}`),
      ),
    ].sort(),
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}
