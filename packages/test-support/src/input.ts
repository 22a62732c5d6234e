/**
 * The fixed input every engine sees, [batch, 3, R, R] NCHW: the bench's Node workers and the demo page's
 * benchmark both feed it, so their logits can be checked against onnxruntime-node's.
 */
export function fixedInput(batch: number, resolution: number): Float32Array {
  return new Float32Array(batch * 3 * resolution * resolution).map((_, i) => Math.sin(i * 0.01));
}
