import './ort-env.js';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Graph, MobileNetError, analyze, firstLine } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { removeOnSignal } from '@mobilenet/runtime-node';

/** One row of a profile: where time went and where the model's multiply-accumulates are. */
export interface ProfileRow {
  readonly name: string;
  /** Milliseconds per run in this row's kernels (each kernel's median over the runs). */
  readonly ms: number;
  readonly timeShare: number;
  readonly macs: number;
  readonly macShare: number;
}

export interface ModelProfile {
  readonly runs: number;
  readonly batch: number;
  /** Milliseconds per run in all kernels, each kernel's median over the runs (time between kernels excluded). */
  readonly kernelMs: number;
  /** Per block of the model (e.g. 'features.3'), in model order: fused nodes fall in the block they came from. */
  readonly layers: readonly ProfileRow[];
  /** Per kind of operation, as MobileNet v1's Table 2 counts them: Conv 1x1, Conv DW 3x3, Conv 3x3, FC, the rest by op. */
  readonly ops: readonly ProfileRow[];
}

/** One kernel event of onnxruntime's profile (Chrome trace format). */
interface TraceEvent {
  readonly cat?: string;
  readonly name: string;
  readonly dur: number;
  readonly args?: {
    readonly op_name?: string;
    readonly input_type_shape?: readonly Record<string, readonly number[]>[];
  };
}

/**
 * The block a node belongs to: the path up to its first index, and a second index right after it
 * ('features.3.conv.1' -> 'features.3', 'blocks.2.0.conv_pw' -> 'blocks.2.0', 'features.0.1' -> 'features.0'); a name
 * without indices is its own block.
 * onnxruntime's suffixes on rewritten nodes ('_nchwc', '_kernel_time') are dropped first.
 */
export function blockOf(name: string): string {
  const base = name.replace(/_kernel_time$/, '').replace(/(_nchwc|_fused.*|_token_\d+)$/, '');
  const parts = base.split(/[./]/);
  const i = parts.findIndex((p) => /^\d+$/.test(p));
  if (i < 0) return base;
  // A second index names a block only when something follows it (timm's 'blocks.2.0.conv_pw');
  // torchvision's 'features.0.1' is the second module of block 'features.0'.
  return parts.slice(0, /^\d+$/.test(parts[i + 1] ?? '') && parts.length > i + 2 ? i + 2 : i + 1).join('.');
}

/** Conv kind from its weight shape [out, in/group, kh, kw] and group: the rows of v1's Table 2. */
function convKind(weight: readonly number[] | undefined, group: number): string {
  if (weight?.length !== 4) return 'Conv';
  const [out, perGroup, kh, kw] = weight as [number, number, number, number];
  if (kh === 1 && kw === 1) return 'Conv 1x1';
  if (perGroup === 1 && group > 1 && group === out) return `Conv DW ${kh}x${kw}`;
  return `Conv ${kh}x${kw}`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const isFc = (op: string) => op === 'Gemm' || op === 'MatMul';

/** MACs per block and per kind, from our analysis of the graph. */
function macsOf(graph: Graph) {
  const a = analyze(graph);
  const byBlock = new Map<string, number>();
  const byKind = new Map<string, number>();
  const inits = new Map(graph.initializers.map((i) => [i.name, i.dims]));
  graph.nodes.forEach((node, i) => {
    const macs = a.layers[i]!.macs;
    if (!macs) return;
    const group = Number(node.attrs?.group?.value ?? 1);
    const kind = node.op === 'Conv' ? convKind(inits.get(node.inputs[1]!), group) : isFc(node.op) ? 'FC' : node.op;
    byBlock.set(blockOf(node.name), (byBlock.get(blockOf(node.name)) ?? 0) + macs);
    byKind.set(kind, (byKind.get(kind) ?? 0) + macs);
  });
  return {
    byBlock,
    byKind,
    total: a.macs,
    blocks: new Set(graph.nodes.map((node) => blockOf(node.name))),
    order: [...new Set(graph.nodes.map((node) => blockOf(node.name)))],
  };
}

/** The kind of an onnxruntime kernel: its op, with convolutions told apart by weight shape (fused or not). */
function eventKind(e: TraceEvent): string {
  const op = e.args?.op_name ?? 'unknown';
  if (op === 'Conv' || op === 'FusedConv' || op === 'NchwcConv') {
    const weight = e.args?.input_type_shape?.[1] && Object.values(e.args.input_type_shape[1])[0];
    // One input channel per group and many outputs: depthwise (our stems take 3 channels, so never match).
    return convKind(weight, weight && weight[1] === 1 ? weight[0]! : 1);
  }
  return isFc(op) ? 'FC' : op;
}

/** Rows in `order` (then the rest), or by share of time when no order is given. */
function rows(
  time: Map<string, number>,
  macs: Map<string, number>,
  runs: number,
  totalUs: number,
  totalMacs: number,
  order?: readonly string[],
): ProfileRow[] {
  const names = [...new Set([...(order ?? []), ...time.keys(), ...macs.keys()])].filter(
    (k) => time.has(k) || macs.has(k),
  );
  const rank = (r: ProfileRow) => (order ? names.indexOf(r.name) : 0);
  return names
    .map((name) => ({
      name,
      ms: (time.get(name) ?? 0) / runs / 1000,
      timeShare: (time.get(name) ?? 0) / totalUs,
      macs: macs.get(name) ?? 0,
      macShare: totalMacs ? (macs.get(name) ?? 0) / totalMacs : 0,
    }))
    .sort((a, b) => rank(a) - rank(b) || b.timeShare - a.timeShare || b.macShare - a.macShare);
}

/**
 * The profiled session, or an error naming the model with onnxruntime's message (its C++ source prefix cut). Its own
 * log is silenced: a model it cannot load would otherwise also print a coloured line about the profile it could not
 * write, naming nothing.
 */
async function startProfiled(
  bytes: Uint8Array,
  name: string,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { ...options, logSeverityLevel: 4 });
  } catch (e) {
    throw new MobileNetError('model', name, 'a model onnxruntime-node can load', firstLine(e));
  }
}

/**
 * Runs `graph` (as ONNX `bytes`) `runs` times under onnxruntime's profiler and sets each block's and each kind's
 * share of kernel time beside its share of MACs. `options` are the session options the timing is meant for.
 */
export async function profileModel(
  bytes: Uint8Array,
  graph: Graph,
  o: {
    runs?: number;
    warmup?: number;
    batch?: number;
    options?: ort.InferenceSession.SessionOptions;
    /** What messages call the model (its file); default the graph's name. */
    name?: string;
  } = {},
): Promise<ModelProfile> {
  const runs = o.runs ?? 20;
  const input = graph.inputs[0];
  const [b, c, h, w] = input?.type.shape ?? [];
  if (!input || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
    throw new MobileNetError(
      'model-input',
      `model '${graph.name}'`,
      'an image input [N, C, H, W] with fixed C, H, W',
      input ? `[${input.type.shape.join(', ')}]` : 'no input',
    );
  }
  const batch = typeof b === 'number' ? b : (o.batch ?? 1);
  const dir = await mkdtemp(join(tmpdir(), 'mobilenet-profile-'));
  const forget = removeOnSignal(dir);
  try {
    const session = await startProfiled(bytes, o.name ?? `model '${graph.name}'`, {
      ...o.options,
      enableProfiling: true,
      profileFilePrefix: join(dir, 'ort'),
    });
    const data = new Float32Array(batch * c * h * w).map((_, i) => Math.sin(i) * 0.5);
    const feeds = { [input.name]: new ort.Tensor('float32', data, [batch, c, h, w]) };
    for (let i = 0; i < (o.warmup ?? 3); i++) await session.run(feeds);
    const warmupRuns = o.warmup ?? 3;
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file)
      throw new MobileNetError('profile', `onnxruntime profile in ${dir}`, 'a JSON trace file', 'none written');
    const events = (JSON.parse(await readFile(join(dir, file), 'utf8')) as TraceEvent[]).filter(
      (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'),
    );
    // Each kernel's median over the timed runs (warm-up runs dropped): one preempted run on a busy machine
    // must not make a 1x1 conv look like the bottleneck.
    const durations = new Map<string, { e: TraceEvent; durs: number[] }>();
    const seen = new Map<string, number>();
    for (const e of events) {
      const k = (seen.get(e.name) ?? 0) + 1;
      seen.set(e.name, k);
      if (k <= warmupRuns) continue;
      const d = durations.get(e.name) ?? { e, durs: [] };
      d.durs.push(e.dur);
      durations.set(e.name, d);
    }
    const macs = macsOf(graph);
    const byBlock = new Map<string, number>();
    const byKind = new Map<string, number>();
    let total = 0;
    for (const [name, { e, durs }] of durations) {
      const us = median(durs) * runs; // per-run median, summed back over the runs
      const block = macs.blocks.has(blockOf(name)) ? blockOf(name) : '(inserted by onnxruntime)';
      byBlock.set(block, (byBlock.get(block) ?? 0) + us);
      byKind.set(eventKind(e), (byKind.get(eventKind(e)) ?? 0) + us);
      total += us;
    }
    const n = runs;
    return {
      runs: n,
      batch,
      kernelMs: total / n / 1000,
      layers: rows(byBlock, macs.byBlock, n, total, macs.total, macs.order),
      ops: rows(byKind, macs.byKind, n, total, macs.total),
    };
  } finally {
    forget();
    await rm(dir, { recursive: true, force: true });
  }
}
