import type { Graph } from '../../ir/graph.js';
import { attrInt } from '../../ir/node.js';
import type { TensorType } from '../../ir/tensor.js';
import type { TensorRange } from './ranges.js';

/** The largest float32 at or below 1 / k: onnxruntime's floor(1.0f / scale) is then exactly k. */
function scaleOfInverse(k: number): number {
  const f = Math.fround(1 / k);
  if (f * k <= 1) return f; // exact in double: 24-bit mantissa times k < 2^29
  const bits = new Uint32Array(Float32Array.of(f).buffer);
  bits[0]! -= 1;
  return new Float32Array(bits.buffer)[0]!;
}

/**
 * Quantization of a Softmax's output that onnxruntime's QLinearSoftmax computes correctly. onnxruntime fuses
 * DequantizeLinear -> Softmax -> QuantizeLinear into that contrib op, whose CPU kernel (1.30,
 * contrib_ops/cpu/quantization/qlinear_softmax.cc) takes k = floor(1 / output_scale) and multiplies exp-table
 * entries as large as FLT_MAX / (D e^5) by k in float32 (D: the softmax axis's length). Past k = D e^5 (about 148 D)
 * that product overflows and every output is 0: MobileNetV4's attention over 4 keys at 64 px, calibrated to a
 * softmax maximum of 0.29 (k = 892), gave 3 dB SQNR. onnxruntime's own quantizer always uses 1/256 there.
 * Here k = floor(min(255 / calibrated max, 128 D)), the scale exactly 1/k (its floor the kernel's k), zero point at
 * the bottom of the type: softmax's output lies in [0, 1], and [0, 255 / k] holds the calibrated range.
 */
export function softmaxOutputParams(
  r: TensorRange,
  axisLength: number,
  type: 'uint8' | 'int8',
): { scale: number; zero: number } {
  const k = Math.max(1, Math.floor(Math.min(255 / Math.max(r.max, 255 / 2 ** 20), 128 * axisLength)));
  return { scale: scaleOfInverse(k), zero: type === 'uint8' ? 0 : -128 };
}

/** Softmax outputs by name, with the length of the axis each reduces over (1 where the shape is symbolic). */
export function softmaxAxes(g: Graph, types: ReadonlyMap<string, TensorType>): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of g.nodes) {
    if (n.op !== 'Softmax') continue;
    const shape = types.get(n.inputs[0]!)?.shape ?? [];
    const axis = attrInt(n, 'axis', -1);
    const d = shape[axis < 0 ? shape.length + axis : axis];
    out.set(n.outputs[0]!, typeof d === 'number' ? d : 1);
  }
  return out;
}
