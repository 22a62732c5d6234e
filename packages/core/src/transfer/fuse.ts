import { GraphError, MobileNetError } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { checkGraph } from '../ir/graph.js';
import { type Node, int } from '../ir/node.js';
import type { Initializer, Value } from '../ir/tensor.js';
import { METADATA_KEYS, OUTPUT_NAMES, embeddingOutputOf } from '../metadata/keys.js';
import { trainingMetadata } from '../metadata/write.js';
import type { Head } from '../train/head.js';

/** The outputs of a fused (or head-only) model: the head's logits (what classify reads), their softmax. */
export const HEAD_OUTPUTS = { logits: OUTPUT_NAMES.logits, probabilities: 'probabilities' } as const;

/** How a head was trained, for the file's `mobilenet.training` metadata (JSON). */
export interface TrainingRecord {
  /** What the backbone was: a pretrained name, a file (with its sha256) or an arch with seeded weights. */
  readonly base: string;
  readonly imagesPerClass: Readonly<Record<string, number>>;
  readonly valAccuracy: number | null;
  readonly seed: number;
  /** The head and the options of its run (trainHead's resolved options). */
  readonly head: object;
  readonly [extra: string]: unknown;
}

const f32 = (name: string, dims: number[], data: Float32Array): Initializer => ({
  name,
  dtype: 'float32',
  dims,
  data: Float32Array.from(data),
});

/** The head's nodes and weights from `x` (an [N, D] value) to the logits and probabilities outputs. */
function headNodes(head: Head, x: string): { nodes: Node[]; initializers: Initializer[] } {
  const k = head.classes.length;
  const { W, b, W2, b2 } = head.weights;
  const gemm = (name: string, input: string, w: string, bias: string, out: string): Node => ({
    name,
    op: 'Gemm',
    inputs: [input, w, bias],
    outputs: [out],
    attrs: { transB: int(1) },
  });
  const softmax: Node = {
    name: 'head.softmax',
    op: 'Softmax',
    inputs: [HEAD_OUTPUTS.logits],
    outputs: [HEAD_OUTPUTS.probabilities],
    attrs: { axis: int(1) },
  };
  if (head.kind === 'linear')
    return {
      nodes: [gemm('head.fc', x, 'head.fc.weight', 'head.fc.bias', HEAD_OUTPUTS.logits), softmax],
      initializers: [f32('head.fc.weight', [k, head.dim], W), f32('head.fc.bias', [k], b)],
    };
  const h = head.hidden!;
  return {
    nodes: [
      gemm('head.fc1', x, 'head.fc1.weight', 'head.fc1.bias', 'head.fc1'),
      { name: 'head.relu', op: 'Relu', inputs: ['head.fc1'], outputs: ['head.relu'], attrs: {} },
      gemm('head.fc2', 'head.relu', 'head.fc2.weight', 'head.fc2.bias', HEAD_OUTPUTS.logits),
      softmax,
    ],
    initializers: [
      f32('head.fc1.weight', [h, head.dim], W),
      f32('head.fc1.bias', [h], b),
      f32('head.fc2.weight', [k, h], W2!),
      f32('head.fc2.bias', [k], b2!),
    ],
  };
}

/** The head's weights as named float32 tensors (PyTorch's [out, in] layout), for safetensors. */
export function headTensors(head: Head): Record<string, { dims: number[]; data: Float32Array }> {
  const { initializers } = headNodes(head, 'x');
  return Object.fromEntries(initializers.map((i) => [i.name, { dims: [...i.dims], data: i.data as Float32Array }]));
}

/** The nodes that `outputs` depend on, in their order: the base's classifier, no longer read, is dropped. */
function needed(nodes: readonly Node[], outputs: readonly string[]): Node[] {
  const want = new Set(outputs);
  const keep: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => want.has(o))) continue;
    keep.push(n);
    for (const input of n.inputs) if (input) want.add(input);
  }
  return keep.reverse();
}

function checkHead(head: Head, dim: unknown, where: string): void {
  if (dim !== head.dim)
    throw new MobileNetError(
      'fuse-shape',
      where,
      `an 'embedding' output of width ${head.dim} (the head was trained on ${head.dim}-wide embeddings)`,
      `width ${String(dim)}`,
    );
}

/**
 * The base model with the head behind its `embedding` output, as one graph: embedding -> Gemm(transB=1) -> Softmax
 * (mlp: Gemm -> Relu -> Gemm -> Softmax). Outputs: `logits` (the head's, what classify reads), `probabilities` (their
 * softmax) and `embedding` (so the file still embeds). The base's own classifier is dropped. Metadata: the base's,
 * with the head's class names, `classes` in the config, and `mobilenet.training` when a record is given.
 */
export function fuseHead(base: Graph, head: Head, training?: TrainingRecord): Graph {
  const emb = embeddingOutputOf(base.outputs);
  if (!emb)
    throw new MobileNetError(
      'fuse-no-embedding',
      `base model '${base.name}'`,
      `an '${OUTPUT_NAMES.embedding}' output (the pooled features; mobilenet export writes one unless --no-embedding)`,
      `outputs ${base.outputs.map((o) => `'${o.name}'`).join(', ') || 'none'}`,
    );
  checkHead(head, emb.type.shape[1], `base model '${base.name}'`);
  const { nodes, initializers } = headNodes(head, emb.name);
  const kept = needed(base.nodes, [emb.name]);
  const taken = new Set([...kept.flatMap((n) => n.outputs), ...base.initializers.map((i) => i.name)]);
  for (const i of initializers)
    if (taken.has(i.name))
      throw new GraphError('duplicate-name', `base model '${base.name}'`, 'no value named like the head', i.name);
  const used = new Set(kept.flatMap((n) => n.inputs));
  const batch = emb.type.shape[0]!;
  const k = head.classes.length;
  const outputs: Value[] = [
    { name: HEAD_OUTPUTS.logits, type: { dtype: 'float32', shape: [batch, k] } },
    { name: HEAD_OUTPUTS.probabilities, type: { dtype: 'float32', shape: [batch, k] } },
    emb,
  ];
  return checkGraph({
    name: `${base.name}_${head.kind}_head_${k}`,
    inputs: base.inputs,
    outputs,
    initializers: [...base.initializers.filter((i) => used.has(i.name)), ...initializers],
    nodes: [...kept, ...nodes],
    values: [],
    metadata: fusedMetadata(base.metadata, head, training),
  });
}

/** The head alone: input `embedding` [N, D] -> logits, probabilities; class names and training facts in metadata. */
export function headGraph(
  head: Head,
  training?: TrainingRecord,
  name = `${head.kind}_head_${head.classes.length}`,
): Graph {
  const { nodes, initializers } = headNodes(head, OUTPUT_NAMES.embedding);
  const k = head.classes.length;
  return checkGraph({
    name,
    inputs: [{ name: OUTPUT_NAMES.embedding, type: { dtype: 'float32', shape: ['N', head.dim] } }],
    outputs: [
      { name: HEAD_OUTPUTS.logits, type: { dtype: 'float32', shape: ['N', k] } },
      { name: HEAD_OUTPUTS.probabilities, type: { dtype: 'float32', shape: ['N', k] } },
    ],
    initializers,
    nodes,
    values: [],
    metadata: fusedMetadata({}, head, training),
  });
}

/** The base's metadata with the head's classes: names, count in the config, how it was trained. */
function fusedMetadata(
  base: Readonly<Record<string, string>>,
  head: Head,
  training: TrainingRecord | undefined,
): Record<string, string> {
  const out: Record<string, string> = { ...base, [METADATA_KEYS.labels]: JSON.stringify(head.classes) };
  const raw = Object.hasOwn(base, METADATA_KEYS.config) ? base[METADATA_KEYS.config]! : undefined;
  if (raw !== undefined) {
    try {
      const config = JSON.parse(raw) as Record<string, unknown>;
      if (typeof config === 'object' && config !== null && !Array.isArray(config))
        // The classifier is trained (its labels mean something, whatever the backbone's weights): 'trained', and
        // the backbone's own kind kept beside it.
        out[METADATA_KEYS.config] = JSON.stringify({
          ...config,
          classes: head.classes.length,
          weights: 'trained',
          backboneWeights: config.weights,
        });
    } catch {
      // A base config that does not parse is left as it is: the readers report it, naming the file.
    }
  }
  return training ? { ...out, ...trainingMetadata(training) } : out;
}
