import { type Graph, type Int8Kernels, checkGraph, emulateAvx2U8S8, toOnnx } from '@mobilenet/core';
import { int8KernelsHere } from '@mobilenet/runtime-node';
import * as ort from 'onnxruntime-node';
import { type Fidelity, fidelity } from './fidelity.js';
import { eachOutput } from './run-each.js';

/** How one node's quantized output follows float32's (emulated AVX2 arithmetic), and what it lost over its inputs. */
export interface LayerFidelity {
  readonly node: string;
  readonly op: string;
  readonly tensor: string;
  readonly sqnrDb: number;
  /** SQNR of the layer's input less that of its output: what this layer added to the error. */
  readonly lossDb: number;
}

export interface Int8Check {
  readonly inputs: number;
  /** This machine's kernel path, and the int8 model on its kernels (onnxruntime's optimised graph). */
  readonly kernels: Int8Kernels;
  readonly cpu: Fidelity;
  /** The int8 model with AVX2's U8S8 arithmetic (int16 pair saturation) emulated, on any CPU. */
  readonly avx2: Fidelity;
  /** Every node with a quantized output, in graph order (emulated AVX2 arithmetic). */
  readonly layers: readonly LayerFidelity[];
}

type Outputs = Record<string, Float32Array>;

/**
 * What a layer reading only float32 tensors is measured from: about what one int8 rounding of a well-scaled
 * activation leaves (the first int8 tensors of the architectures measure 38-46 dB), so that such a layer loses only
 * what it adds beyond rounding.
 */
const EXACT_INPUT_DB = 40;

/** Runs a graph on onnxruntime-node CPU for each input, handing each input's outputs to `visit`. */
async function each(
  graph: Graph,
  inputs: readonly Float32Array[],
  level: 'all' | 'disabled',
  visit: (k: number, out: Outputs) => void,
): Promise<void> {
  const dims = graph.inputs[0]!.type.shape.map((d, i) => (i === 0 ? 1 : (d as number)));
  const feeds = inputs.map((x) => ({ [graph.inputs[0]!.name]: new ort.Tensor('float32', x, dims) }));
  // One input's outputs at a time: they come in input order.
  let current = -1;
  let out: Outputs = {};
  await eachOutput(
    toOnnx(graph, { batch: 1 }),
    feeds,
    (k, name, data) => {
      if (k !== current) {
        if (current >= 0) visit(current, out);
        [current, out] = [k, {}];
      }
      out[name] = data;
    },
    level,
  );
  if (current >= 0) visit(current, out);
}

/** The graph with these inner tensors also graph outputs (those it has). */
function observing(graph: Graph, names: ReadonlySet<string>): Graph {
  const typed = checkGraph(graph);
  const outputs = new Set(typed.outputs.map((o) => o.name));
  const extra = typed.values.filter((v) => names.has(v.name) && !outputs.has(v.name));
  return { ...typed, outputs: [...typed.outputs, ...extra], values: [] };
}

/** Signal and noise power summed over images, per tensor. */
class Noise {
  private readonly sums = new Map<string, [number, number]>();
  /** `got` may be longer: quantize pads depthwise channels with zeros after the model's own (batch 1). */
  add(name: string, ref: Float32Array, got: Float32Array): void {
    const s = this.sums.get(name) ?? [0, 0];
    for (let i = 0; i < ref.length; i++) {
      s[0] += ref[i]! * ref[i]!;
      s[1] += (ref[i]! - got[i]!) ** 2;
    }
    this.sums.set(name, s);
  }
  db(name: string): number {
    const [signal, noise] = this.sums.get(name) ?? [0, 0];
    return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
  }
}

/**
 * The nodes of a QDQ graph whose output is quantized (a QuantizeLinear/DequantizeLinear pair after it, the DQ keeping
 * the float graph's name), with their inputs that the float graph also has: where int8 error can enter.
 */
function quantizedNodes(
  q: Graph,
  names: ReadonlySet<string>,
): { node: string; op: string; inputs: string[]; output: string }[] {
  const from = new Map(q.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const found: { node: string; op: string; inputs: string[]; output: string }[] = [];
  for (const dq of q.nodes) {
    const quant = dq.op === 'DequantizeLinear' ? from.get(dq.inputs[0]!) : undefined;
    const node = quant?.op === 'QuantizeLinear' ? from.get(quant.inputs[0]!) : undefined;
    if (!node || !names.has(dq.outputs[0]!)) continue;
    found.push({
      node: node.name,
      op: node.op,
      inputs: node.inputs.filter((i) => names.has(i)),
      output: dq.outputs[0]!,
    });
  }
  return found;
}

/**
 * Runs float32 and int8 models over the same preprocessed inputs and measures the int8 logits against float32's,
 * on this machine's kernels and under emulated AVX2 arithmetic, with every int8 layer's own loss (emulated).
 * `float` is the graph `quantize` was given (BatchNorm folded or not: tensor names are shared).
 */
export async function checkInt8(float: Graph, q: Graph, inputs: readonly Float32Array[]): Promise<Int8Check> {
  const logits = (float.outputs.find((o) => o.name === 'logits') ?? float.outputs[0]!).name;
  const typed = checkGraph(float);
  const names = new Set([...typed.inputs, ...typed.values, ...typed.outputs].map((v) => v.name));
  const layers = quantizedNodes(q, names);
  const wanted = new Set([logits, ...layers.flatMap((l) => [...l.inputs, l.output])]);
  const observedFloat = observing(float, wanted);
  const observedInt8 = observing(emulateAvx2U8S8(q), wanted);
  const reference: Outputs[] = [];
  await each(observedFloat, inputs, 'all', (k, out) => {
    reference[k] = Object.fromEntries(Object.entries(out).filter(([n]) => wanted.has(n)));
  });
  const noise = new Noise();
  const emulated: Float32Array[] = [];
  await each(observedInt8, inputs, 'disabled', (k, out) => {
    for (const t of wanted) if (reference[k]![t] && out[t]) noise.add(t, reference[k]![t]!, out[t]!);
    emulated[k] = out[logits]!;
  });
  const real: Float32Array[] = [];
  await each(q, inputs, 'all', (k, out) => {
    real[k] = out[logits]!;
  });
  const ref = reference.map((r) => r[logits]!);
  return {
    inputs: inputs.length,
    kernels: int8KernelsHere(),
    cpu: fidelity(ref, real),
    avx2: fidelity(ref, emulated),
    layers: layers.map((l) => ({
      node: l.node,
      op: l.op,
      tensor: l.output,
      sqnrDb: noise.db(l.output),
      // From its noisiest input. Inputs without noise (float32 where int8 starts) count as EXACT_INPUT_DB.
      lossDb: Math.min(EXACT_INPUT_DB, ...l.inputs.map((i) => noise.db(i))) - noise.db(l.output),
    })),
  };
}

/**
 * The layer that lost the most: the largest drop in SQNR from its noisiest input to its output (a saturating conv
 * 17 dB, a dead squeeze-excite gate 25 dB, where ordinary int8 layers lose under 4).
 */
export function worstLayer(check: Int8Check): LayerFidelity | undefined {
  return [...check.layers].sort((a, b) => b.lossDb - a.lossDb || a.sqnrDb - b.sqnrDb)[0];
}
