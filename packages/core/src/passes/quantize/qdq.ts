import { GraphError } from '../../ir/errors.js';
import { type Graph, checkGraph, nodeWhere } from '../../ir/graph.js';
import { type Node, attrFloat } from '../../ir/node.js';
import type { Initializer, TensorType } from '../../ir/tensor.js';
import { METADATA_KEYS } from '../../metadata/keys.js';
import { precisionMetadata } from '../../metadata/write.js';
import { foldBatchNorm } from '../fold-batch-norm.js';
import { producers, pruneInitializers, scalarConstant } from '../pass.js';
import { padDepthwiseChannels } from './pad-channels.js';
import { regions, shiftedGates } from './regions.js';
import { softmaxAxes, softmaxOutputParams } from './softmax.js';
import { CalibrationError, type CalibrationRanges, type TensorRange } from './ranges.js';
import type { Int8Target } from './weights.js';
import { Emitter, type Params, lowest, roundEven } from './emit.js';

/** The parts of a MobileNet that `quantize` can leave in float32. */
export interface KeepFloat {
  /** Everything after the last GlobalAveragePool: Flatten, the Gemm layer(s) and what lies between them. */
  readonly classifier?: boolean;
  /** Squeeze-excite: the pooled branch (pool, two 1x1 convs, their activations) and the gating Mul. */
  readonly squeezeExcite?: boolean;
  /**
   * The stem: the conv that reads the image (3 input channels: int8 kernels gain nothing there) and its activation,
   * and the first block after it, from the depthwise conv that reads the stem's output up to the next block's
   * expansion conv (wide, shallow tensors: onnxruntime's fp32 NCHWc convs fuse it, residual Add included; int8 would
   * add a QuantizeLinear, Transposes and a QLinearAdd there). The first int8 layer is that expansion conv.
   */
  readonly stem?: boolean;
  /**
   * Attention (MobileNetV4 hybrids): its MatMuls and the Softmax between them. In int8 onnxruntime runs them as
   * QLinearMatMul and QLinearSoftmax, slower than fp32's FusedMatMul and Softmax (v4-hybrid-large at 384 px: 24.5
   * against 8.9 ms per run); the projections around them stay int8.
   */
  readonly attention?: boolean;
}

export interface QuantizeOptions {
  /** Type of quantized activations. Weights are always int8, symmetric, per output channel. */
  readonly activations?: 'uint8' | 'int8';
  readonly keepFloat?: KeepFloat;
  /**
   * Pad depthwise convs' channels to a multiple of this many with zero channels (exact), so that onnxruntime uses
   * its fast quantized depthwise kernel, which needs multiples of 16. 0 or 1: no padding.
   */
  readonly padDepthwise?: number;
  /**
   * 'portable' (the default): weights that no onnxruntime CPU kernel saturates, AVX2 without VNNI included
   * (weights.ts). 'vnni': plain max/127 weights, for CPUs whose int8 kernels accumulate in 32 bits (VNNI, AMX,
   * ARM, WASM); on AVX2 without VNNI such a file loses 10 dB or more.
   */
  readonly target?: Int8Target;
}

/** Defaults chosen by measurement on onnxruntime CPU (docs/precision.md). */
export const QUANTIZE_DEFAULTS: Required<QuantizeOptions> = {
  activations: 'uint8',
  keepFloat: { classifier: false, squeezeExcite: false, stem: true, attention: true },
  padDepthwise: 16,
  target: 'portable',
};

/** What `quantize` records in the file's metadata under 'mobilenet.int8' (JSON). */
export interface Int8Record {
  readonly target: Int8Target;
  readonly weights: 'int8 symmetric per output channel';
  readonly activations: 'uint8' | 'int8';
  /** Output channels whose scale was widened so that no K pair can saturate VPMADDUBSW ('portable'). */
  readonly adjustedChannels: number;
  readonly channels: number;
}
export const INT8_METADATA_KEY = METADATA_KEYS.int8;

/** Ops that onnxruntime runs on quantized tensors (QLinear*, QGemm) when Q/DQ sit around them. */
const FUSED = new Set(['Conv', 'Gemm', 'MatMul', 'Add', 'Mul', 'GlobalAveragePool', 'AveragePool']);
/** Elementwise ops that sit between quantized layers: their input and output are quantized too. */
const BETWEEN = new Set(['Relu', 'Clip', 'HardSwish', 'HardSigmoid', 'Sigmoid', 'Flatten', 'Reshape']);

/** Per-tensor asymmetric parameters of a range (always containing 0, so that zero padding is exact). */
export function activationParams(r: TensorRange, type: 'uint8' | 'int8'): { scale: number; zero: number } {
  const lo = Math.min(r.min, 0);
  const hi = Math.max(r.max, 0);
  const scale = hi - lo > 1e-12 ? (hi - lo) / 255 : 1;
  const qmin = type === 'uint8' ? 0 : -128;
  return { scale: Math.fround(scale), zero: Math.min(qmin + 255, Math.max(qmin, roundEven(qmin - lo / scale))) };
}

/**
 * Conv -> Relu / Clip(0, hi) with nothing else reading the conv: the conv writes the activation's output and the
 * activation goes. The Q after it saturates at the calibrated range, which lies inside [0, hi]: the same function
 * (onnxruntime's quantizer removes them the same way), and QLinearConv needs the Q right after the Conv.
 */
function absorbActivations(graph: Graph, keep: (n: Node) => boolean): Graph {
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const from = producers(graph);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const drop = new Set<string>();
  const rewired = new Map<string, string>(); // conv name -> new output
  for (const act of graph.nodes) {
    const conv = from.get(act.inputs[0]!);
    if (
      conv?.op !== 'Conv' ||
      keep(conv) ||
      keep(act) ||
      readers.get(conv.outputs[0]!) !== 1 ||
      outputs.has(conv.outputs[0]!)
    )
      continue;
    const lo = act.op === 'Clip' ? scalarConstant(graph, act.inputs[1] ?? '') : act.op === 'Relu' ? 0 : undefined;
    if (lo !== 0) continue;
    drop.add(act.name);
    rewired.set(conv.name, act.outputs[0]!);
  }
  const nodes = graph.nodes
    .filter((n) => !drop.has(n.name))
    .map((n) => (rewired.has(n.name) ? { ...n, outputs: [rewired.get(n.name)!] } : n));
  return { ...graph, nodes };
}

type Options = Required<QuantizeOptions>;

/**
 * Stage 1, the graph int8 goes on: BatchNorm folded, depthwise channels padded, ReLU/Clip absorbed into the convs
 * before them; and which nodes stay float (the `keepFloat` regions).
 */
function prepare(graph: Graph, o: Options): { g: Graph; float: (n: Node) => boolean } {
  const unpadded = checkGraph(foldBatchNorm(graph));
  const folded = o.padDepthwise > 1 ? padDepthwiseChannels(unpadded, o.padDepthwise) : unpadded;
  const { classifier, squeezeExcite, stem, attention } = regions(folded);
  const float = (n: Node): boolean =>
    (!!o.keepFloat.classifier && classifier.has(n.name)) ||
    (!!o.keepFloat.squeezeExcite && squeezeExcite.has(n.name)) ||
    (!!o.keepFloat.stem && stem.has(n.name)) ||
    (!!o.keepFloat.attention && attention.has(n.name));
  return { g: checkGraph(absorbActivations(folded, float)), float };
}

/** What stage 2 decides: which nodes run quantized, and which tensors get a Q/DQ pair. */
interface Plan {
  readonly g: Graph;
  /** The initializers by name; stage 3 shifts the biases of the convs that feed a gate. */
  readonly inits: Map<string, Initializer>;
  readonly types: ReadonlyMap<string, TensorType>;
  readonly quantized: (n: Node) => boolean;
  /** Float activations that a quantized node reads or writes. */
  readonly wanted: ReadonlySet<string>;
}

/** Stage 2: a node is quantized when onnxruntime fuses it, it is not kept float, and its constants are parameters. */
function plan(g: Graph, float: (n: Node) => boolean): Plan {
  const inits = new Map(g.initializers.map((i) => [i.name, i]));
  const types = new Map<string, TensorType>([...g.inputs, ...g.values, ...g.outputs].map((v) => [v.name, v.type]));
  const isParam = (n: Node, i: string) =>
    ((n.op === 'Conv' || n.op === 'Gemm') && n.inputs.indexOf(i) > 0) ||
    ((n.op === 'Clip' || n.op === 'Reshape') && n.inputs.indexOf(i) > 0);
  const quantized = (n: Node) =>
    (FUSED.has(n.op) || BETWEEN.has(n.op)) && !float(n) && n.inputs.every((i) => !inits.has(i) || isParam(n, i));
  const wanted = new Set<string>();
  for (const n of g.nodes) {
    if (!quantized(n)) continue;
    for (const t of [...n.inputs, ...n.outputs])
      if (t && !inits.has(t) && types.get(t)?.dtype === 'float32') wanted.add(t);
  }
  return { g, inits, types, quantized, wanted };
}

type Shifted = ReturnType<typeof shiftedGates>;

/**
 * Stage 3, each wanted tensor's scale and zero point: from its calibrated range; for a gate's input, from the
 * gate's own [0, 1/alpha] (its conv's bias takes the shift); for a Softmax output, in the scale QLinearSoftmax uses.
 */
function activationScales(p: Plan, calibration: CalibrationRanges, o: Options): { shifted: Shifted; params: Params } {
  const shifted = shiftedGates(p.g, p.quantized, p.wanted);
  const params: Params = new Map();
  for (const [z, { conv, alpha, beta }] of shifted) {
    // The conv computes z + beta/alpha; its QuantizeLinear over [0, 1/alpha] clips: the gate needs no calibration.
    const b = p.inits.get(conv.inputs[2]!)!;
    p.inits.set(b.name, { ...b, data: (b.data as Float32Array).map((v) => v + beta / alpha) });
    params.set(z, { scale: Math.fround(1 / alpha / 255), zero: lowest(o) });
  }
  for (const t of p.wanted) {
    if (shifted.has(t)) continue;
    const r = calibration.ranges[t];
    if (!r)
      throw new CalibrationError(
        `tensor '${t}'`,
        'a calibrated range for every quantized activation',
        'none in the calibration ranges',
        `model '${calibration.model.name}'`,
      );
    params.set(t, activationParams(r, o.activations));
  }
  // Softmax outputs in the scale onnxruntime's QLinearSoftmax can compute (softmax.ts).
  for (const [t, d] of softmaxAxes(p.g, p.types)) {
    const r = calibration.ranges[t];
    if (r && params.has(t)) params.set(t, softmaxOutputParams(r, d, o.activations));
  }
  return { shifted, params };
}

/**
 * Stage 4, the new node list: Q/DQ pairs on the graph inputs and after each wanted tensor's producer, int8 weights
 * in front of quantized Conv/Gemm, HardSigmoid/HardSwish as int8 gates; float nodes read float-made tensors before
 * their Q/DQ pair.
 */
function rewrite(p: Plan, shifted: Shifted, emit: Emitter): Node[] {
  const { g, inits, quantized, wanted } = p;
  const nodes: Node[] = [];
  const floatMade = new Set(
    g.nodes.filter((n) => !quantized(n)).flatMap((n) => n.outputs.filter((t) => wanted.has(t))),
  );
  const rename = new Map<string, string>(); // graph inputs: readers move to the DQ output
  for (const i of g.inputs)
    if (wanted.has(i.name)) {
      rename.set(i.name, `${i.name}.dq`);
      nodes.push(...emit.qdq(i.name, i.name, `${i.name}.dq`));
    }
  for (const n of g.nodes) {
    // A float node reads a float-produced tensor before its Q/DQ pair: no rounding, and no DequantizeLinear
    // in front of it (onnxruntime would quantize a float Conv between a DQ and a Q itself).
    const inputs = n.inputs.map((i) => rename.get(i) ?? (!quantized(n) && floatMade.has(i) ? `${i}.f` : i));
    if (quantized(n) && (n.op === 'Conv' || n.op === 'Gemm')) {
      const w = inits.get(n.inputs[1]!);
      if (!w?.data || w.dtype !== 'float32')
        throw new GraphError('unsupported', nodeWhere(n), 'a float32 weight initializer', `'${n.inputs[1]}'`);
      nodes.push(...emit.weights({ ...n, inputs }));
    }
    const outs = n.outputs.map((t) => (wanted.has(t) ? `${t}.f` : t));
    const z = shifted.get(n.inputs[0]!);
    if (z?.gate === n) {
      nodes.push(shiftedGate(n, emit));
      continue;
    }
    const gated = quantized(n) && (n.op === 'HardSwish' || n.op === 'HardSigmoid');
    if (gated && wanted.has(n.inputs[0]!) && wanted.has(n.outputs[0]!)) {
      nodes.push(...hardGate(n, inputs[0]!, outs, emit));
      if (n.op === 'HardSigmoid') continue;
    } else nodes.push({ ...n, inputs, outputs: outs });
    for (const t of n.outputs)
      if (wanted.has(t)) nodes.push(...emit.qdq(t, `${t}.f`, t).slice(0, shifted.has(t) ? 1 : 2));
  }
  return nodes;
}

/** A gate whose conv wrote the clipped, shifted value already: only the factor alpha is left, in this DQ's scale. */
function shiftedGate(n: Node, emit: Emitter): Node {
  const unit = emit.scalarInit(`${n.name}.gate.unit_scale`, 'float32', Math.fround(1 / 255));
  const zp = emit.zeroPoint(emit.o.activations, emit.params.get(n.inputs[0]!)!.zero);
  const dq = { name: `${n.name}.gate.dequantize`, op: 'DequantizeLinear', attrs: {} };
  return { ...dq, inputs: [`${n.inputs[0]}.q`, unit, zp], outputs: [n.outputs[0]!] };
}

/** HardSigmoid as an int8 gate (its output is the gate, already quantized), HardSwish as x times that gate. */
function hardGate(n: Node, x: string, outs: string[], emit: Emitter): Node[] {
  const swish = n.op === 'HardSwish';
  const alpha = swish ? 1 / 6 : attrFloat(n, 'alpha', 0.2);
  const beta = swish ? 0.5 : attrFloat(n, 'beta', 0.5);
  const gate = emit.gate(n, x, alpha, beta, swish ? `${n.name}.gate` : n.outputs[0]!);
  if (!swish) return gate;
  return [...gate, { name: n.name, op: 'Mul', inputs: [x, `${n.name}.gate`], outputs: outs, attrs: {} }];
}

/**
 * Static post-training quantization to a QDQ graph, in the placement onnxruntime fuses into QLinearConv, QGemm,
 * QLinearAdd, QLinearMul and QLinearGlobalAveragePool: each quantized activation T becomes T -> QuantizeLinear ->
 * DequantizeLinear (the DQ keeps T's name, so readers do not change); each Conv/Gemm weight is stored int8 per output
 * channel and read through a DequantizeLinear, its bias int32 with scale input_scale * weight_scale. BatchNorm is
 * folded first. `ranges` are those of the graph as given (before folding), from calibration.
 */
export function quantize(graph: Graph, calibration: CalibrationRanges, options: QuantizeOptions = {}): Graph {
  const o = { ...QUANTIZE_DEFAULTS, ...options, keepFloat: { ...QUANTIZE_DEFAULTS.keepFloat, ...options.keepFloat } };
  const { g, float } = prepare(graph, o);
  const p = plan(g, float);
  const { shifted, params } = activationScales(p, calibration, o);
  const emit = new Emitter(o, p.inits, params);
  const nodes = rewrite(p, shifted, emit);
  // Absorbed Clips leave their bounds behind: pruned.
  const initializers = [...g.initializers.filter((i) => !emit.dropInits.has(i.name)), ...emit.extra];
  const record: Int8Record = {
    target: o.target,
    weights: 'int8 symmetric per output channel',
    activations: o.activations,
    adjustedChannels: emit.adjusted,
    channels: emit.total,
  };
  const metadata = { ...g.metadata, ...precisionMetadata('int8', record) };
  return checkGraph(pruneInitializers({ ...g, nodes, initializers, metadata, values: [] }));
}
