import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { resizeScale, scaledSize } from './infer-dense.js';
import { int, str } from './node.js';

describe('Resize and Concat shape inference', () => {
  it('resizeScale gives a float32 scale whose floor(float32(in * scale)) is exactly out, for every size to 1024', () => {
    const bad: string[] = [];
    for (const inSize of [1, 2, 3, 5, 10, 17, 20, 33, 65, 130, 260, 333, 520, 1000])
      for (let out = 1; out <= 1024; out++) {
        const s = resizeScale(inSize, out);
        if (scaledSize(inSize, s) !== out || Math.abs(s - out / inSize) > (out / inSize) * 2 ** -20)
          bad.push(`${inSize}->${out}`);
      }
    expect(bad).toEqual([]);
  });

  it('types Resize by its constant scales (a symbolic batch kept) and Concat by summing its axis', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', ['batch', 8, 33, 33]);
    const y = b.input('y', ['batch', 4, 65, 65]);
    const scales = b.constant({
      name: 's',
      dtype: 'float32',
      dims: [4],
      data: Float32Array.of(1, 1, resizeScale(33, 65), resizeScale(33, 65)),
    });
    const up = b.node('Resize', 'up', [x.name, '', scales], { mode: str('linear') });
    expect(up.type.shape).toEqual(['batch', 8, 65, 65]);
    expect(b.node('Concat', 'cat', [up.name, y.name], { axis: int(1) }).type.shape).toEqual(['batch', 12, 65, 65]);
    expect(() => b.node('Concat', 'bad', [x.name, y.name], { axis: int(1) })).toThrow(
      "node 'bad' (Concat): expected input 1 like input 0 (float32 [batch, 8, 33, 33]) except on axis 1, received float32 [batch, 4, 65, 65]",
    );
    expect(() => b.node('Concat', 'noaxis', [x.name])).toThrow(/attribute 'axis'/);
    expect(() => b.node('Resize', 'nothing', [x.name])).toThrow(/constant scales or sizes/);
  });
});
