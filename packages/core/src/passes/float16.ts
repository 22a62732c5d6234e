import { GraphError } from '../ir/errors.js';
import { type Graph, checkGraph } from '../ir/graph.js';
import { type Node, int } from '../ir/node.js';
import { OPS } from '../ir/ops.js';
import { DTYPE_CODE, type Initializer } from '../ir/tensor.js';
import { precisionMetadata } from '../metadata/write.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE float32 -> float16 bits, rounding to nearest even; beyond 65504 gives infinity, as a hardware cast does. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // may carry into the exponent: still right
  return sign | r;
}

/** float16 bits -> number. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export interface Float16Options {
  /** Ops computed in float32 (their inputs cast up, outputs cast down). Default: Softmax and ReduceMean. */
  readonly keepFloat32?: readonly string[];
  /** Nodes computed in float32, by name (e.g. ones `float16Hazards` names). */
  readonly keepNodes?: readonly string[];
}

/** Ops whose sums over many values lose too much in float16 accumulators (measured: docs/precision.md). */
export const FLOAT32_OPS: readonly string[] = ['Softmax', 'ReduceMean'];

/** The largest finite float16. */
export const FLOAT16_MAX = 65504;
/** The smallest positive float16 (a subnormal): below half of it a value rounds to 0. */
export const FLOAT16_MIN = 2 ** -24;

/** The names of the nodes `toFloat16` computes in float32 under these options. */
export function float32Nodes(graph: Graph, options: Float16Options = {}): Set<string> {
  const ops = new Set(options.keepFloat32 ?? FLOAT32_OPS);
  const kept = new Set(options.keepNodes ?? []);
  const names = new Set(graph.nodes.map((n) => n.name));
  const unknown = [...kept].filter((k) => !names.has(k));
  if (unknown.length)
    throw new GraphError(
      'unknown-node',
      `toFloat16 option keepNodes`,
      `names of nodes of graph '${graph.name}'`,
      unknown.map((k) => `'${k}'`).join(', '),
    );
  return new Set(graph.nodes.filter((n) => ops.has(n.op) || kept.has(n.name)).map((n) => n.name));
}

const fitsHalf = (data: Float32Array): boolean => data.every((v) => Math.abs(v) <= FLOAT16_MAX);

/**
 * Half precision: float32 weights become float16 and nodes compute in float16, except the float32 ones (ops in
 * `keepFloat32`, nodes in `keepNodes`). Their weights are stored as float16 too and cast up (the file stays half
 * size; onnxruntime folds those Casts when it loads the model). A weight beyond float16's range stays float32, and
 * the node reading it computes in float32. Graph inputs and outputs stay float32 for callers: a Cast follows each
 * input and precedes each output. Casts also sit between float16 nodes and float32 ones.
 */
export function toFloat16(graph: Graph, options: Float16Options = {}): Graph {
  const g = checkGraph(graph);
  const inits = new Map(g.initializers.map((i) => [i.name, i]));
  const unfit = new Set(
    g.initializers
      .filter((i) => i.dtype === 'float32' && i.data && !fitsHalf(i.data as Float32Array))
      .map((i) => i.name),
  );
  // A node that reads a weight beyond float16's range computes in float32 with that weight as it is.
  const keep = new Set([
    ...float32Nodes(g, options),
    ...g.nodes.filter((n) => n.inputs.some((t) => unfit.has(t))).map((n) => n.name),
  ]);
  const isFloat = new Set(
    [...g.inputs, ...g.values, ...g.outputs].filter((v) => v.type.dtype === 'float32').map((v) => v.name),
  );
  const half = new Map<string, Initializer>(); // float32 initializer -> its float16 copy
  const precision = new Map<string, 'float16' | 'float32'>(g.inputs.map((i) => [i.name, 'float32']));
  const casts = new Map<string, string>(); // `${tensor}>${dtype}` -> cast output
  const nodes: Node[] = [];
  const cast = (t: string, to: 'float16' | 'float32'): string => {
    const key = `${t}>${to}`;
    if (!casts.has(key)) {
      const out = `${t}.${to === 'float16' ? 'fp16' : 'fp32'}`;
      nodes.push({ name: `${out}.cast`, op: 'Cast', inputs: [t], outputs: [out], attrs: { to: int(DTYPE_CODE[to]) } });
      casts.set(key, out);
    }
    return casts.get(key)!;
  };
  const halfInit = (i: Initializer): string => {
    if (!half.has(i.name)) {
      const data = i.data ? Uint16Array.from(i.data as Float32Array, toHalfBits) : undefined;
      half.set(i.name, { name: `${i.name}.fp16`, dtype: 'float16', dims: i.dims, ...(data && { data }) });
    }
    return half.get(i.name)!.name;
  };
  const weight = (i: Initializer, want: 'float16' | 'float32'): string => {
    if (i.dtype !== 'float32' || unfit.has(i.name)) return i.name;
    // Scalars (Clip bounds, Div constants) are too small to matter for size: a float32 node reads them as they are.
    if (want === 'float32') return i.dims.length === 0 ? i.name : cast(halfInit(i), 'float32');
    return halfInit(i);
  };
  const outputs = new Set(g.outputs.map((o) => o.name));
  for (const n of g.nodes) {
    const want = keep.has(n.name) ? 'float32' : 'float16';
    const fixed = OPS[n.op]?.float32Inputs ?? [];
    const inputs = n.inputs.map((t, k) => {
      const init = inits.get(t);
      if (init && fixed.includes(k)) return t;
      if (init) return weight(init, want);
      if (!isFloat.has(t)) return t;
      return precision.get(t) === want ? t : cast(t, want);
    });
    const outs = n.outputs.map((t) => {
      if (!isFloat.has(t)) return t;
      precision.set(t, want);
      return outputs.has(t) && want === 'float16' ? `${t}.fp16` : t;
    });
    nodes.push({ ...n, inputs, outputs: outs });
    n.outputs.forEach((t, k) => {
      if (outs[k] === t) return;
      // A graph output computed in float16 is cast up under its own name: a node that also reads it (a head behind
      // an 'embedding' output) gets the float16 tensor when it computes in float16, the float32 one otherwise.
      precision.set(t, 'float32');
      casts.set(`${t}>float16`, outs[k]!);
      nodes.push({
        name: `${t}.cast`,
        op: 'Cast',
        inputs: [outs[k]!],
        outputs: [t],
        attrs: { to: int(DTYPE_CODE.float32) },
      });
    });
  }
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...g.initializers.filter((i) => used.has(i.name)), ...half.values()];
  return checkGraph({
    ...g,
    nodes,
    initializers,
    metadata: { ...g.metadata, ...precisionMetadata('fp16') },
    values: [],
  });
}

/** A tensor that float16 cannot hold: values beyond its range (`overflow`), or all of them rounding to 0 (`underflow`). */
export interface Float16Hazard {
  readonly kind: 'overflow' | 'underflow' | 'not-finite';
  readonly node: string;
  readonly op: string;
  readonly tensor: string;
  /** The largest |value| the float32 model gave this tensor. */
  readonly maxAbs: number;
}

/**
 * The nodes `toFloat16` (with these options) computes in float16 whose outputs float16 cannot hold, judged from the
 * float32 model's largest |value| of each tensor on sample inputs (`maxAbs`, by tensor name: a runtime observes
 * them, e.g. through `observeActivations`). In graph order. Judged on float32 values, so the verdict does not depend
 * on which float16 kernels a runtime has (onnxruntime's CPU provider computes some ops in float32 and hides an
 * overflow a GPU would show). Non-finite float32 values are reported wherever they are.
 */
export function float16Hazards(
  graph: Graph,
  maxAbs: ReadonlyMap<string, number>,
  options: Float16Options = {},
): Float16Hazard[] {
  const keep = float32Nodes(graph, options);
  const out: Float16Hazard[] = [];
  for (const n of graph.nodes)
    for (const tensor of n.outputs) {
      const m = maxAbs.get(tensor);
      if (m === undefined) continue;
      const at = { node: n.name, op: n.op, tensor, maxAbs: m };
      if (!Number.isFinite(m)) out.push({ kind: 'not-finite', ...at });
      else if (keep.has(n.name)) continue;
      else if (m > FLOAT16_MAX) out.push({ kind: 'overflow', ...at });
      else if (m > 0 && m < FLOAT16_MIN / 2) out.push({ kind: 'underflow', ...at });
    }
  return out;
}
