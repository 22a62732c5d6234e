// Shape inference of the ops that dense prediction (detection heads, segmentation decoders) adds: Resize and Concat.
import { GraphError, ShapeError } from './errors.js';
import { attrInt } from './node.js';
import { type InferContext, input } from './infer.js';
import { type Dim, type TensorType, formatShape } from './tensor.js';

/**
 * The output size ONNX and onnxruntime give a Resize by `scales`: floor(float32(size * scale)), both in float32
 * (onnx's shape inference and onnxruntime's `ComputeOutputShape` multiply in float). `resizeScale` picks a scale
 * for which this is exactly the size wanted.
 */
export function scaledSize(size: number, scale: number): number {
  return Math.floor(Math.fround(Math.fround(size) * Math.fround(scale)));
}

/**
 * The float32 scale nearest to out / in whose `scaledSize` is exactly `out`: torch's F.interpolate(size=...) samples
 * at (x + 0.5) * in / out - 0.5, ONNX's half_pixel at (x + 0.5) / scale - 0.5; within an ulp of each other.
 */
export function resizeScale(inSize: number, outSize: number): number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  f[0] = outSize / inSize;
  for (let step = 0; step < 64 && scaledSize(inSize, f[0]!) !== outSize; step++) {
    u[0] = u[0]! + (scaledSize(inSize, f[0]!) < outSize ? 1 : -1);
  }
  if (scaledSize(inSize, f[0]!) !== outSize) throw new Error(`no float32 scale resizes ${inSize} to ${outSize}`);
  return f[0]!;
}

/** Resize (opset 13 form: X, roi, scales, sizes): the output is `sizes`, or each dim scaled by a constant `scales`. */
export function inferResize(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const [, , scalesName = '', sizesName = ''] = ctx.node.inputs;
  const sizes = sizesName ? ctx.constant(sizesName) : undefined;
  const scales = scalesName ? ctx.constant(scalesName) : undefined;
  if (sizes?.data && sizes.data.length > 0) {
    const out = Array.from(sizes.data as BigInt64Array, Number);
    if (out.length !== x.shape.length)
      throw new ShapeError(ctx.where, `sizes of rank ${x.shape.length}`, `[${out.join(', ')}]`);
    return [{ dtype: x.dtype, shape: out.map((d, i) => (i === 0 ? (x.shape[0] as Dim) : d)) }];
  }
  if (!scales?.data || scales.data.length === 0)
    throw new GraphError('unsupported', ctx.where, 'constant scales or sizes', 'neither');
  const s = Array.from(scales.data as Float32Array);
  if (s.length !== x.shape.length)
    throw new ShapeError(ctx.where, `scales of rank ${x.shape.length}`, `[${s.join(', ')}]`);
  // A symbolic dim (the batch) keeps its name: the models scale only H and W.
  const shape = x.shape.map((d, i) => (typeof d === 'number' ? scaledSize(d, s[i]!) : d));
  return [{ dtype: x.dtype, shape }];
}

/** Concat: inputs agree on every axis but `axis`, whose sizes add up. */
export function inferConcat(ctx: InferContext): TensorType[] {
  const first = input(ctx, 0);
  const rank = first.shape.length;
  const raw = attrInt(ctx.node, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  if (axis < 0 || axis >= rank) throw new ShapeError(ctx.where, `axis in [-${rank}, ${rank - 1}]`, `${raw}`);
  let total: Dim = 0;
  ctx.node.inputs.forEach((_, i) => {
    const t = input(ctx, i);
    const agrees = t.shape.length === rank && t.shape.every((d, k) => k === axis || d === first.shape[k]);
    if (!agrees || t.dtype !== first.dtype)
      throw new ShapeError(
        ctx.where,
        `input ${i} like input 0 (${first.dtype} ${formatShape(first.shape)}) except on axis ${axis}`,
        `${t.dtype} ${formatShape(t.shape)}`,
      );
    const d = t.shape[axis] as Dim;
    total = typeof total === 'number' && typeof d === 'number' ? total + d : typeof d === 'string' ? d : total;
  });
  const shape = [...first.shape];
  shape[axis] = total;
  return [{ dtype: first.dtype, shape }];
}
