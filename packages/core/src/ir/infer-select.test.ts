import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { int } from './node.js';

const i64 = (b: GraphBuilder, name: string, values: number[]) =>
  b.constant({ name, dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });

describe('shape inference of the selection ops', () => {
  it('types what SSD postprocessing needs, data-dependent sizes named after their node', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', ['N', 90, 3234]);
    const boxes = b.input('boxes', ['N', 3234, 4]);
    const s = b.node('Slice', 's', [x.name, i64(b, 'st', [1]), i64(b, 'en', [-1]), i64(b, 'ax', [1])]);
    expect(s.type.shape).toEqual(['N', 88, 3234]);
    const k = b.node('TopK', 'k', [x.name, i64(b, 'k300', [300])], { axis: int(2) });
    expect(k.type).toEqual({ dtype: 'float32', shape: ['N', 90, 300] });
    const dyn = b.node('TopK', 'kdyn', [x.name, b.input('kin', [1], 'int64').name], { axis: int(2) });
    expect(dyn.type.shape).toEqual(['N', 90, 'kdyn:k']);
    const merged = b.node('Reshape', 'r', [k.name, i64(b, 'shape', [-1, 1, 300])]);
    expect(merged.type.shape).toEqual(['N*90', 1, 300]);
    const nms = b.node('NonMaxSuppression', 'nms', [b.input('nb', ['B', 300, 4]).name, merged.name]);
    expect(nms.type).toEqual({ dtype: 'int64', shape: ['nms:selected', 3] });
    const topIdx = b.input('top_indices', ['N', 90, 300], 'int64');
    const idx = b.node('Reshape', 'i', [topIdx.name, i64(b, 's2', [0, 27000, 1])]);
    const g = b.node('GatherND', 'g', [boxes.name, idx.name], { batch_dims: int(1) });
    expect(g.type.shape).toEqual(['N', 27000, 4]);
    const where = b.node('Where', 'w', [b.node('Greater', 'gt', [x.name, b.scalar(0.5)]).name, x.name, b.scalar(-1)]);
    expect(where.type.shape).toEqual(['N', 90, 3234]);
    const sum = b.node('ReduceSum', 'sum', [x.name, i64(b, 'axes', [1, 2])], { keepdims: int(0) });
    expect(sum.type.shape).toEqual(['N']);
  });

  it('refuses what it cannot type, naming the node', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', [1, 90, 10]);
    expect(() => b.node('TopK', 'k', [x.name, i64(b, 'k', [11])])).toThrow(/node 'k' \(TopK\): expected k at most 10/);
    expect(() => b.node('Slice', 's', [x.name, i64(b, 'a', [0]), b.input('e', [1], 'int64').name])).toThrow(
      /node 's' \(Slice\): expected constant starts and ends/,
    );
    expect(() => b.node('Slice', 's2', [x.name, i64(b, 'a2', [0, 0]), i64(b, 'b2', [1])])).toThrow(
      /starts, ends, axes and steps of one length/,
    );
    expect(() => b.node('Where', 'w', [x.name, x.name, x.name])).toThrow(/expected a bool condition/);
    expect(() => b.node('NonMaxSuppression', 'n', [x.name, x.name])).toThrow(/expected boxes \[batches, boxes, 4\]/);
  });
});
