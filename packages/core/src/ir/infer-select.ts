// Shape inference of the selection and indexing ops (Slice, Where, TopK, Gather, GatherND, ScatterND,
// NonMaxSuppression, ReduceSum, comparisons) that SSD's postprocessing in the graph needs
// (detection/graph-postprocess.ts). A size that only the data decides (NMS's selected count, a top-k whose k is a
// run-time input) becomes a symbolic dim named after the node, so the file says which node decides it.
import { GraphError, ShapeError } from './errors.js';
import { attrInt } from './node.js';
import { broadcast, requireRank } from './shapes.js';
import type { Dim, TensorType } from './tensor.js';
import { formatShape } from './tensor.js';
import { type InferContext, input } from './infer.js';

/** The values of a constant int64 input, or undefined when the input is computed (or a run-time input). */
function constInts(ctx: InferContext, i: number): number[] | undefined {
  const name = ctx.node.inputs[i];
  if (!name) return undefined;
  const init = ctx.constant(name);
  if (!init?.data || init.dtype !== 'int64') return undefined;
  return Array.from(init.data as BigInt64Array, Number);
}

function axisOf(ctx: InferContext, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank))
    throw new ShapeError(ctx.where, `${what} in [${-rank}, ${rank - 1}]`, `${axis} for rank ${rank}`);
  return a;
}

/** Greater / Less: broadcast, bool out. */
export function inferCompare(ctx: InferContext): TensorType[] {
  return [{ dtype: 'bool', shape: broadcast(ctx.where, input(ctx, 0).shape, input(ctx, 1).shape) }];
}

/** Where(condition, X, Y): the three broadcast; X's dtype (Y must match). */
export function inferWhere(ctx: InferContext): TensorType[] {
  const [c, x, y] = [input(ctx, 0), input(ctx, 1), input(ctx, 2)];
  if (c.dtype !== 'bool') throw new ShapeError(ctx.where, 'a bool condition', c.dtype);
  if (x.dtype !== y.dtype) throw new ShapeError(ctx.where, 'X and Y of one dtype', `${x.dtype} and ${y.dtype}`);
  return [{ dtype: x.dtype, shape: broadcast(ctx.where, broadcast(ctx.where, c.shape, x.shape), y.shape) }];
}

/** Slice with constant starts, ends, axes and steps (opset 13 inputs); a symbolic dim sliced stays symbolic. */
export function inferSlice(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const starts = constInts(ctx, 1);
  const ends = constInts(ctx, 2);
  if (!starts || !ends) throw new GraphError('unsupported', ctx.where, 'constant starts and ends', 'computed ones');
  const axes = constInts(ctx, 3) ?? starts.map((_, i) => i);
  const steps = constInts(ctx, 4) ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    throw new ShapeError(
      ctx.where,
      'starts, ends, axes and steps of one length',
      `${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`,
    );
  const shape: Dim[] = [...x.shape];
  axes.forEach((axis, i) => {
    const a = axisOf(ctx, axis, x.shape.length);
    const d = x.shape[a]!;
    const step = steps[i] ?? 1;
    if (step !== 1) throw new GraphError('unsupported', ctx.where, 'steps of 1', `${step}`);
    if (typeof d !== 'number') {
      shape[a] = `${ctx.node.name}:${a}`;
      return;
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    shape[a] = Math.max(0, clamp(ends[i]!) - clamp(starts[i]!));
  });
  return [{ dtype: x.dtype, shape }];
}

/** TopK: values and int64 indices, k along `axis` (a number when K is a constant, else named after the node). */
export function inferTopK(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const k = input(ctx, 1);
  if (k.dtype !== 'int64' || k.shape.length !== 1 || k.shape[0] !== 1)
    throw new ShapeError(ctx.where, 'K as int64 [1]', `${k.dtype} ${formatShape(k.shape)}`);
  const a = axisOf(ctx, attrInt(ctx.node, 'axis', -1), x.shape.length);
  const kv = constInts(ctx, 1)?.[0];
  const d = x.shape[a]!;
  if (kv !== undefined && typeof d === 'number' && kv > d)
    throw new ShapeError(ctx.where, `k at most ${d} (the size of axis ${a})`, `${kv}`);
  const shape = [...x.shape];
  shape[a] = kv ?? `${ctx.node.name}:k`;
  return [
    { dtype: x.dtype, shape },
    { dtype: 'int64', shape },
  ];
}

function requireIndices(ctx: InferContext, t: TensorType): void {
  if (t.dtype !== 'int64' && t.dtype !== 'int32') throw new ShapeError(ctx.where, 'int64 or int32 indices', t.dtype);
}

/** Gather: data.shape[:axis] + indices.shape + data.shape[axis + 1:]. */
export function inferGather(ctx: InferContext): TensorType[] {
  const [data, idx] = [input(ctx, 0), input(ctx, 1)];
  requireIndices(ctx, idx);
  const a = axisOf(ctx, attrInt(ctx.node, 'axis', 0), data.shape.length);
  return [{ dtype: data.dtype, shape: [...data.shape.slice(0, a), ...idx.shape, ...data.shape.slice(a + 1)] }];
}

/** GatherND: data.shape[:b] + indices.shape[b:-1] + data.shape[b + last:], b = batch_dims, last = indices' last dim. */
export function inferGatherND(ctx: InferContext): TensorType[] {
  const [data, idx] = [input(ctx, 0), input(ctx, 1)];
  requireIndices(ctx, idx);
  const b = attrInt(ctx.node, 'batch_dims', 0);
  const last = idx.shape[idx.shape.length - 1];
  if (typeof last !== 'number' || idx.shape.length < b + 1 || b + last > data.shape.length)
    throw new ShapeError(
      ctx.where,
      `indices whose last dim is fixed and at most ${data.shape.length - b} (batch_dims ${b})`,
      formatShape(idx.shape),
    );
  return [
    { dtype: data.dtype, shape: [...data.shape.slice(0, b), ...idx.shape.slice(b, -1), ...data.shape.slice(b + last)] },
  ];
}

/** ScatterND: the data's type; updates must be indices.shape[:-1] + data.shape[last:] (checked where fixed). */
export function inferScatterND(ctx: InferContext): TensorType[] {
  const [data, idx, upd] = [input(ctx, 0), input(ctx, 1), input(ctx, 2)];
  requireIndices(ctx, idx);
  if (upd.dtype !== data.dtype) throw new ShapeError(ctx.where, `updates of ${data.dtype}`, upd.dtype);
  return [data];
}

/** NonMaxSuppression: selected (batch, class, box) triples, int64 [selected, 3]. */
export function inferNms(ctx: InferContext): TensorType[] {
  const [boxes, scores] = [input(ctx, 0), input(ctx, 1)];
  requireRank(ctx.where, 'boxes', boxes.shape, 3);
  requireRank(ctx.where, 'scores', scores.shape, 3);
  if (boxes.shape[2] !== 4) throw new ShapeError(ctx.where, 'boxes [batches, boxes, 4]', formatShape(boxes.shape));
  return [{ dtype: 'int64', shape: [`${ctx.node.name}:selected`, 3] }];
}

/** ReduceSum with constant axes (opset 13 input), keepdims as the attribute says. */
export function inferReduceSum(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const given = constInts(ctx, 1);
  if (ctx.node.inputs[1] && !given) throw new GraphError('unsupported', ctx.where, 'constant axes', 'computed ones');
  const axes = (given ?? x.shape.map((_, i) => i)).map((a) => axisOf(ctx, a, x.shape.length));
  const keep = attrInt(ctx.node, 'keepdims', 1);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
}
