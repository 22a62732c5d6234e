import { ShapeError } from './errors.js';
import { type Dim, type Shape, concreteDim, formatShape } from './tensor.js';

/** Numpy-style broadcasting of two shapes, as ONNX's Add and Mul do it. */
export function broadcast(where: string, a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new ShapeError(where, 'broadcastable shapes', `${formatShape(a)} and ${formatShape(b)}`);
  }
  return out;
}

/** Output size of a convolution or pooling window along one axis. */
export function windowOut(
  where: string,
  size: Dim,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
): Dim {
  if (typeof size === 'string') return size;
  const span = dilation * (kernel - 1) + 1;
  if (span > size + padBegin + padEnd) {
    throw new ShapeError(
      where,
      `an input at least as large as the kernel (${span} with dilation ${dilation})`,
      `spatial size ${size} with padding ${padBegin}+${padEnd}`,
    );
  }
  return Math.floor((size + padBegin + padEnd - span) / stride) + 1;
}

export function product(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= concreteDim(d);
  return n;
}

export function requireRank(where: string, what: string, shape: Shape, rank: number): void {
  if (shape.length !== rank) throw new ShapeError(where, `${what} of rank ${rank}`, formatShape(shape));
}
