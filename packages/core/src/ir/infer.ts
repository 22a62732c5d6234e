// Shape inference and MAC counts of the ops in ops.ts: one function per op kind, so the table reads as data.
import { GraphError, ShapeError } from './errors.js';
import { type Node, attrInt, attrInts } from './node.js';
import { broadcast, product, requireRank, windowOut } from './shapes.js';
import {
  type DType,
  type Dim,
  type Initializer,
  type TensorType,
  concreteDim,
  dtypeOfCode,
  formatShape,
  numel,
} from './tensor.js';

/** What an op's shape inference sees: its node, where it is (for errors), its input types and the graph's constants. */
export interface InferContext {
  readonly node: Node;
  readonly where: string;
  readonly inputs: readonly (TensorType | undefined)[];
  readonly constant: (name: string) => Initializer | undefined;
}

export const input = (ctx: InferContext, i: number): TensorType => {
  const t = ctx.inputs[i];
  if (!t) throw new GraphError('missing-input', ctx.where, `input ${i}`, 'nothing');
  return t;
};

export const same = (ctx: InferContext): TensorType[] => [input(ctx, 0)];
export function inferConv(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const w = input(ctx, 1);
  const { where, node } = ctx;
  requireRank(where, 'input X', x.shape, 4);
  requireRank(where, 'weight W', w.shape, 4);
  const group = attrInt(node, 'group', 1);
  const [m, cPerGroup, kh, kw] = w.shape as [number, number, number, number];
  const c = x.shape[1] as number;
  if (group < 1 || c % group !== 0 || m % group !== 0) {
    throw new ShapeError(
      where,
      `group ${group} dividing input channels ${c} and output channels ${m}`,
      `group ${group}`,
    );
  }
  if (cPerGroup * group !== c) {
    throw new ShapeError(
      where,
      `input channels ${cPerGroup * group} (weight ${formatShape(w.shape)} x group ${group})`,
      `input ${formatShape(x.shape)} with ${c} channels`,
    );
  }
  const kernel = attrInts(node, 'kernel_shape', [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) {
    throw new ShapeError(
      where,
      `kernel_shape matching weight ${formatShape(w.shape)}`,
      `kernel_shape [${kernel.join(', ')}]`,
    );
  }
  const b = ctx.inputs[2];
  if (b && (b.shape.length !== 1 || b.shape[0] !== m)) {
    throw new ShapeError(where, `bias of shape [${m}]`, formatShape(b.shape));
  }
  const [sh, sw] = attrInts(node, 'strides', [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = attrInts(node, 'pads', [0, 0, 0, 0]) as [number, number, number, number];
  const [dh, dw] = attrInts(node, 'dilations', [1, 1]) as [number, number];
  const h = windowOut(where, x.shape[2] as Dim, kh, sh, pt, pb, dh);
  const wd = windowOut(where, x.shape[3] as Dim, kw, sw, pl, pr, dw);
  return [{ dtype: x.dtype, shape: [x.shape[0] as Dim, m, h, wd] }];
}

export function inferBatchNorm(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const c = x.shape[1];
  for (let i = 1; i <= 4; i++) {
    const p = input(ctx, i);
    if (p.shape.length !== 1 || p.shape[0] !== c) {
      throw new ShapeError(
        ctx.where,
        `input ${i} of shape [${c}] (one per channel of ${formatShape(x.shape)})`,
        formatShape(p.shape),
      );
    }
  }
  return [x];
}

export function inferGemm(ctx: InferContext): TensorType[] {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  requireRank(ctx.where, 'input A', a.shape, 2);
  requireRank(ctx.where, 'input B', b.shape, 2);
  const transA = attrInt(ctx.node, 'transA', 0);
  const transB = attrInt(ctx.node, 'transB', 0);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== kb) {
    throw new ShapeError(
      ctx.where,
      `inner dimensions to agree (transA=${transA}, transB=${transB})`,
      `A ${formatShape(a.shape)} and B ${formatShape(b.shape)}`,
    );
  }
  const c = ctx.inputs[2];
  if (c) broadcast(ctx.where, [m as Dim, n as Dim], c.shape);
  return [{ dtype: a.dtype, shape: [m as Dim, n as Dim] }];
}

export function inferGlobalPool(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  if (x.shape.length < 3) throw new ShapeError(ctx.where, 'an input of rank >= 3', formatShape(x.shape));
  return [{ dtype: x.dtype, shape: [x.shape[0] as Dim, x.shape[1] as Dim, ...x.shape.slice(2).map(() => 1)] }];
}

export function inferAveragePool(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  requireRank(ctx.where, 'input X', x.shape, 4);
  const [kh, kw] = attrInts(ctx.node, 'kernel_shape', []) as [number, number];
  const [sh, sw] = attrInts(ctx.node, 'strides', [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = attrInts(ctx.node, 'pads', [0, 0, 0, 0]) as [number, number, number, number];
  const h = windowOut(ctx.where, x.shape[2] as Dim, kh, sh, pt, pb, 1);
  const w = windowOut(ctx.where, x.shape[3] as Dim, kw, sw, pl, pr, 1);
  return [{ dtype: x.dtype, shape: [x.shape[0] as Dim, x.shape[1] as Dim, h, w] }];
}

export function inferFlatten(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const axis = attrInt(ctx.node, 'axis', 1);
  const r = axis < 0 ? axis + x.shape.length : axis;
  const head = x.shape.slice(0, r);
  const tail = x.shape.slice(r);
  const dim = (ds: readonly Dim[]): Dim =>
    ds.length === 1 ? (ds[0] as Dim) : ds.every((d) => typeof d === 'number') ? product(ds) : 'N';
  return [{ dtype: x.dtype, shape: [head.length ? dim(head) : 1, tail.length ? dim(tail) : 1] }];
}

export function inferReshape(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const shapeInit = ctx.constant(ctx.node.inputs[1] ?? '');
  if (!shapeInit?.data) throw new GraphError('unsupported', ctx.where, 'a constant shape input', 'a computed shape');
  const target = Array.from(shapeInit.data as BigInt64Array, Number);
  const out: Dim[] = target.map((d, i) => (d === 0 ? (x.shape[i] as Dim) : d));
  const known = out.filter((d): d is number => typeof d === 'number' && d !== -1);
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    const total = product(x.shape);
    const rest = numel(known);
    const merged = total / rest;
    // A symbolic batch the target does not keep is absorbed by the -1; merged with other sizes (N x 90 boxes
    // lists) it gets a name of its own, so a writer that fixes the batch leaves it alone.
    out[minus] =
      typeof x.shape[0] === 'string' && out[0] !== x.shape[0]
        ? merged === 1
          ? x.shape[0]
          : `${x.shape[0]}*${merged}`
        : merged;
  }
  return [{ dtype: x.dtype, shape: out }];
}

export function inferReduceMean(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const axes = attrInts(
    ctx.node,
    'axes',
    x.shape.map((_, i) => i),
  ).map((a) => (a < 0 ? a + x.shape.length : a));
  const keep = attrInt(ctx.node, 'keepdims', 1);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
}

export function inferClip(ctx: InferContext): TensorType[] {
  for (const i of [1, 2]) {
    const t = ctx.inputs[i];
    if (t && t.shape.length !== 0)
      throw new ShapeError(ctx.where, `input ${i} (a bound) to be a scalar`, formatShape(t.shape));
  }
  return same(ctx);
}

export function inferMatMul(ctx: InferContext): TensorType[] {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new ShapeError(ctx.where, 'inputs of rank >= 2', `A ${formatShape(a.shape)} and B ${formatShape(b.shape)}`);
  }
  const [m, k] = a.shape.slice(-2) as [Dim, Dim];
  const [kb, n] = b.shape.slice(-2) as [Dim, Dim];
  if (k !== kb)
    throw new ShapeError(
      ctx.where,
      'the inner dimensions of A and B to agree',
      `A ${formatShape(a.shape)} and B ${formatShape(b.shape)}`,
    );
  const batch = broadcast(ctx.where, a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [{ dtype: a.dtype, shape: [...batch, m, n] }];
}

/** Pad (opset 13, constant mode): each axis grows by its begin and end pads, given as a constant int64 input. */
export function inferPad(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const padsInit = ctx.constant(ctx.node.inputs[1] ?? '');
  if (!padsInit?.data) throw new GraphError('unsupported', ctx.where, 'constant pads', 'computed pads');
  const pads = Array.from(padsInit.data as BigInt64Array, Number);
  const rank = x.shape.length;
  if (pads.length !== 2 * rank || pads.some((p) => p < 0))
    throw new ShapeError(ctx.where, `${2 * rank} pads of 0 or more (input ${formatShape(x.shape)})`, `[${pads}]`);
  const shape = x.shape.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + rank]! : d));
  return [{ dtype: x.dtype, shape }];
}

export function inferTranspose(ctx: InferContext): TensorType[] {
  const x = input(ctx, 0);
  const rank = x.shape.length;
  const perm = attrInts(
    ctx.node,
    'perm',
    x.shape.map((_, i) => rank - 1 - i),
  );
  const isPerm = perm.length === rank && [...perm].sort((p, q) => p - q).every((p, i) => p === i);
  if (!isPerm)
    throw new ShapeError(
      ctx.where,
      `perm to be a permutation of 0..${rank - 1} (input ${formatShape(x.shape)})`,
      `[${perm.join(', ')}]`,
    );
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p] as Dim) }];
}

/**
 * Quantize/DequantizeLinear: y has x's shape. The scale is a scalar (per tensor) or one value per slice along
 * `axis` (per channel), and the zero point, when given, has the scale's shape.
 */
function checkQuantParams(ctx: InferContext): TensorType {
  const x = input(ctx, 0);
  const scale = input(ctx, 1);
  const zero = ctx.inputs[2];
  if (scale.shape.length === 1) {
    const rank = x.shape.length;
    const axis = attrInt(ctx.node, 'axis', 1);
    const channels = x.shape[axis < 0 ? axis + rank : axis];
    if (channels !== scale.shape[0]) {
      throw new ShapeError(
        ctx.where,
        `a scale of shape [${channels}] (axis ${axis} of ${formatShape(x.shape)}) or a scalar`,
        formatShape(scale.shape),
      );
    }
  } else if (scale.shape.length !== 0) {
    throw new ShapeError(ctx.where, 'a scalar or 1-D scale', formatShape(scale.shape));
  }
  if (zero && formatShape(zero.shape) !== formatShape(scale.shape)) {
    throw new ShapeError(
      ctx.where,
      `a zero point shaped like the scale ${formatShape(scale.shape)}`,
      formatShape(zero.shape),
    );
  }
  return x;
}

/** QuantizeLinear's output has the zero point's type (uint8 when it is left out, as in ONNX). */
export function inferQuantize(ctx: InferContext): TensorType[] {
  const x = checkQuantParams(ctx);
  const dtype = ctx.inputs[2]?.dtype ?? 'uint8';
  if (dtype !== 'int8' && dtype !== 'uint8')
    throw new GraphError('dtype', ctx.where, 'an int8 or uint8 zero point', dtype);
  return [{ dtype, shape: x.shape }];
}

/** DequantizeLinear's output has the scale's type (float32 up to opset 18; float16 too from 19). */
export function inferDequantize(ctx: InferContext): TensorType[] {
  const x = checkQuantParams(ctx);
  return [{ dtype: input(ctx, 1).dtype, shape: x.shape }];
}

export function inferCast(ctx: InferContext): TensorType[] {
  const code = attrInt(ctx.node, 'to', 0);
  const dtype: DType | undefined = dtypeOfCode(code);
  if (!dtype)
    throw new GraphError(
      'dtype',
      `${ctx.where} attribute 'to'`,
      'the ONNX code of a dtype the IR carries (1, 2, 3, 6, 7, 9, 10)',
      `${code}`,
    );
  return [{ dtype, shape: input(ctx, 0).shape }];
}

export const convMacs = (ins: readonly TensorType[], outs: readonly TensorType[]): number => {
  const w = ins[1]!.shape as number[];
  return product(outs[0]!.shape) * product(w.slice(1));
};

export const gemmMacs = (ins: readonly TensorType[], outs: readonly TensorType[], node: Node): number => {
  const a = ins[0]!.shape;
  const k = attrInt(node, 'transA', 0) ? a[0] : a[1];
  return product(outs[0]!.shape) * (k as number);
};

/** A batched matrix product [..., M, K] x [..., K, N]: M*N*K per matrix (attention's QK^T and AV). */
export const matMulMacs = (ins: readonly TensorType[], outs: readonly TensorType[]): number => {
  const a = ins[0]!.shape;
  return product(outs[0]!.shape) * concreteDim(a[a.length - 1]!);
};
