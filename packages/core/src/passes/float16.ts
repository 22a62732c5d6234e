import { type Graph, checkGraph } from '../ir/graph.js';
import { type Node, int } from '../ir/node.js';
import { DTYPE_CODE, type Initializer } from '../ir/tensor.js';

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
}

/** Ops whose sums over many values lose too much in float16 accumulators (measured: docs/precision.md). */
export const FLOAT32_OPS: readonly string[] = ['Softmax', 'ReduceMean'];

/**
 * Half precision: float32 weights become float16 and nodes compute in float16, except the ops in `keepFloat32`.
 * Graph inputs and outputs stay float32 for callers: a Cast follows each input and precedes each output. Casts
 * also sit between float16 nodes and kept float32 ones.
 */
export function toFloat16(graph: Graph, options: Float16Options = {}): Graph {
  const keep = new Set(options.keepFloat32 ?? FLOAT32_OPS);
  const g = checkGraph(graph);
  const inits = new Map(g.initializers.map((i) => [i.name, i]));
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
  const outputs = new Set(g.outputs.map((o) => o.name));
  for (const n of g.nodes) {
    const want = keep.has(n.op) ? 'float32' : 'float16';
    const inputs = n.inputs.map((t) => {
      const init = inits.get(t);
      if (init) return init.dtype === 'float32' && want === 'float16' ? halfInit(init) : t;
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
      if (outs[k] !== t)
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
    metadata: { ...g.metadata, 'mobilenet.precision': 'fp16' },
    values: [],
  });
}
