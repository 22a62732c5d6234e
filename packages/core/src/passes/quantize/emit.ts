// Stage 4 of `quantize` (qdq.ts): the writer of new nodes and initializers.
import { type Node, attrInt, int } from '../../ir/node.js';
import type { Initializer } from '../../ir/tensor.js';
import { type Int8Target, convLayout, gemmLayout, quantizeWeight } from './weights.js';

/** What the writer reads of quantize's options. */
export interface EmitOptions {
  readonly activations: 'uint8' | 'int8';
  readonly target: Int8Target;
}

/** Scale and zero point of each activation tensor that gets a Q/DQ pair. */
export type Params = Map<string, { scale: number; zero: number }>;

/** Round half to even, as onnxruntime's QuantizeLinear does. */
export const roundEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** The lowest code of the activation type: the zero point of a range that starts at 0. */
export const lowest = (o: Pick<EmitOptions, 'activations'>): number => (o.activations === 'uint8' ? 0 : -128);

/** Stage 4's writer of new nodes and initializers: Q/DQ pairs, int8 weights, gates, and the counts for the record. */
export class Emitter {
  readonly extra: Initializer[] = [];
  readonly dropInits = new Set<string>();
  // Zero points are shared by value (and weights' all-zero vectors by length): a model has a few distinct ones, and
  // one initializer each keeps small models within 27% of fp32's size.
  private readonly zeros = new Set<string>();
  adjusted = 0;
  total = 0;

  constructor(
    readonly o: EmitOptions,
    private readonly inits: ReadonlyMap<string, Initializer>,
    readonly params: Params,
  ) {}

  zeroPoint(dtype: 'int8' | 'uint8', v: number, channels?: number): string {
    const name = channels === undefined ? `zero_point.${dtype}.${v}` : `zero_point.${dtype}.x${channels}`;
    if (!this.zeros.has(name)) {
      this.zeros.add(name);
      const data = dtype === 'int8' ? new Int8Array(channels ?? 1).fill(v) : new Uint8Array(channels ?? 1).fill(v);
      this.extra.push({ name, dtype, dims: channels === undefined ? [] : [channels], data });
    }
    return name;
  }

  scalarInit(name: string, dtype: 'float32' | 'int8' | 'uint8', v: number): string {
    const data = dtype === 'float32' ? Float32Array.of(v) : dtype === 'int8' ? Int8Array.of(v) : Uint8Array.of(v);
    this.extra.push({ name, dtype, dims: [], data });
    return name;
  }

  /** T's QuantizeLinear from `from` and DequantizeLinear to `to`, with T's scale and zero point. */
  qdq(t: string, from: string, to: string): Node[] {
    const p = this.params.get(t)!;
    const s = this.scalarInit(`${t}.scale`, 'float32', p.scale);
    const z = this.zeroPoint(this.o.activations, p.zero);
    return [
      { name: `${t}.quantize`, op: 'QuantizeLinear', inputs: [from, s, z], outputs: [`${t}.q`], attrs: {} },
      { name: `${t}.dequantize`, op: 'DequantizeLinear', inputs: [`${t}.q`, s, z], outputs: [to], attrs: {} },
    ];
  }

  /** The weight and bias of a quantized Conv or Gemm, replaced by int8/int32 tensors read through DQ nodes. */
  weights(n: Node): Node[] {
    const [x, wName, bName] = n.inputs as [string, string, string | undefined];
    const w = this.inits.get(wName)!;
    const transB = n.op === 'Gemm' ? attrInt(n, 'transB', 0) : 1;
    const axis = n.op === 'Gemm' && !transB ? 1 : 0;
    const layout = n.op === 'Gemm' ? gemmLayout(w.dims, !!transB) : convLayout(w.dims);
    const channels = layout.channels;
    // Depthwise convs run on kernels that accumulate in 32 bits: nothing to make safe there.
    const depthwise = n.op === 'Conv' && attrInt(n, 'group', 1) > 1;
    const q = quantizeWeight(w.data as Float32Array, layout, depthwise ? 'vnni' : this.o.target);
    this.adjusted += q.adjusted;
    this.total += channels;
    this.dropInits.add(wName);
    this.extra.push({ name: `${wName}.q`, dtype: 'int8', dims: w.dims, data: q.data });
    this.extra.push({ name: `${wName}.scale`, dtype: 'float32', dims: [channels], data: q.scales });
    const wz = this.zeroPoint('int8', 0, channels);
    const out: Node[] = [
      {
        name: `${wName}.dequantize`,
        op: 'DequantizeLinear',
        inputs: [`${wName}.q`, `${wName}.scale`, wz],
        outputs: [wName],
        attrs: { axis: int(axis) },
      },
    ];
    const b = bName ? this.inits.get(bName) : undefined;
    if (b?.data && this.params.has(x)) out.push(this.bias(bName!, b, this.params.get(x)!.scale, q.scales, channels));
    return out;
  }

  /** A bias as int32 with scale input_scale * weight_scale per channel, read through a DequantizeLinear. */
  private bias(name: string, b: Initializer, sx: number, weightScales: Float32Array, channels: number): Node {
    const bs = weightScales.map((s) => Math.fround(sx * s));
    const bq = Int32Array.from(b.data as Float32Array, (v, c) =>
      Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundEven(v / bs[c]!))),
    );
    this.dropInits.add(name);
    this.extra.push({ name: `${name}.q`, dtype: 'int32', dims: b.dims, data: bq });
    this.extra.push({ name: `${name}.scale`, dtype: 'float32', dims: [channels], data: bs });
    return {
      name: `${name}.dequantize`,
      op: 'DequantizeLinear',
      inputs: [`${name}.q`, `${name}.scale`],
      outputs: [name],
      attrs: { axis: int(0) },
    };
  }

  /**
   * HardSigmoid(z) = clip(z + beta/alpha, 0, 1/alpha) * alpha, and HardSwish(x) = x * HardSigmoid(x; 1/6, 1/2).
   * onnxruntime has no quantized HardSigmoid or HardSwish: left in float they cost a DequantizeLinear, two float
   * passes and a QuantizeLinear each. Here the shift is a quantized Add (QLinearAdd), the clip is the saturation
   * of a QuantizeLinear over [0, 1/alpha], the factor alpha is in its DequantizeLinear's scale, and HardSwish's
   * product is a QLinearMul: all in int8. The gate is exact to 1/255.
   */
  gate(n: Node, z: string, alpha: number, beta: number, out: string): Node[] {
    const { o } = this;
    const shift = beta / alpha;
    const top = 1 / alpha;
    const c = `${n.name}.shift`;
    // The shift as a quantized constant: the top code of a [0, shift] range is exactly the shift.
    const cs = this.scalarInit(`${c}.scale`, 'float32', Math.fround(shift / 255));
    const cz = this.zeroPoint(o.activations, lowest(o));
    this.extra.push(
      o.activations === 'uint8'
        ? { name: `${c}.q`, dtype: 'uint8', dims: [], data: Uint8Array.of(255) }
        : { name: `${c}.q`, dtype: 'int8', dims: [], data: Int8Array.of(127) },
    );
    const s = this.scalarInit(`${n.name}.gate.scale`, 'float32', Math.fround(top / 255));
    const sz = this.zeroPoint(o.activations, lowest(o));
    const ds = this.scalarInit(`${n.name}.gate.unit_scale`, 'float32', Math.fround(1 / 255));
    return [
      { name: `${c}.dequantize`, op: 'DequantizeLinear', inputs: [`${c}.q`, cs, cz], outputs: [c], attrs: {} },
      { name: `${n.name}.add`, op: 'Add', inputs: [z, c], outputs: [`${n.name}.shifted`], attrs: {} },
      {
        name: `${n.name}.clip`,
        op: 'QuantizeLinear',
        inputs: [`${n.name}.shifted`, s, sz],
        outputs: [`${n.name}.gate.q`],
        attrs: {},
      },
      {
        name: `${n.name}.gate.dequantize`,
        op: 'DequantizeLinear',
        inputs: [`${n.name}.gate.q`, ds, sz],
        outputs: [out],
        attrs: {},
      },
    ];
  }
}
